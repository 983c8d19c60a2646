"""How this area's audit entries read (the registry: portal.accounts.audit_sentences).

Registered when the area is mounted; the shell's templates use the ``audit_sentence`` and
``audit_changes`` filters this module installs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from portal.accounts import audit_sentences as a

if TYPE_CHECKING:
    from flask import Flask


def register_audit_sentences(app: Flask) -> None:
    from portal.accounts.forms import ClientForm, ContactForm
    from portal.accounts.models.permissions import BUILTIN_ROLE_LABELS, BUILTIN_ROLES

    app.add_template_filter(a.sentence, "audit_sentence")
    app.add_template_filter(a.changes, "audit_changes")
    app.add_template_filter(a.actor, "audit_actor")
    app.add_template_filter(a.object_text, "audit_object")

    a.register_entity("client", _l("the client #%(id)s"))
    a.register_entity("contact", _l("the contact #%(id)s"))
    a.register_entity("staff", _l("the staff member #%(id)s"))
    a.register_entity("role", _l("the role #%(id)s"))
    a.register_entity("note", _l("the note #%(id)s"))
    a.register_entity("setting", _l("the setting %(id)s"))
    a.register_system_actor("whmcs import", _l("WHMCS import"))
    # a role's stored name is English for the built-in roles: read as their translated labels
    builtin_names = {
        BUILTIN_ROLES[role][0]: label for role, (label, _description) in BUILTIN_ROLE_LABELS.items()
    }
    a.register_field("role", _l("Role"), builtin_names, entity="staff")
    a.register_form_labels(ClientForm, entity="client")
    a.register_form_labels(ContactForm, entity="contact")
    for field in ("manager_id", "sales_manager_id"):
        a.register_field(
            field,
            _l("Personal manager") if field == "manager_id" else _l("Sales manager"),
            a.staff_name,
            entity="client",
        )

    a.register_sentences(
        {
            "client.create": _l("%(actor)s created the client %(object)s"),
            "client.update": _l("%(actor)s changed the client's details"),
            "client.delete": _l("%(actor)s deleted the client %(object)s"),
            "client.close": _l("%(actor)s closed the client's account"),
            "client.merge": _l("%(actor)s merged another client into this one"),
            "client.email": _l("%(actor)s changed the client's e-mail address"),
            "client.password": _l("%(actor)s changed the client's password"),
            "client.login_as": _l("%(actor)s signed in as the client"),
            "client.login_as_end": _l("%(actor)s stopped acting as the client"),
            "client.custom_fields": _l("%(actor)s changed the client's custom fields"),
            "contact.create": _l("%(actor)s added a contact"),
            "contact.update": _l("%(actor)s changed a contact"),
            "contact.delete": _l("%(actor)s deleted a contact"),
            "note.create": _l("%(actor)s added a note"),
            "note.update": _l("%(actor)s changed a note"),
            "note.delete": _l("%(actor)s deleted a note"),
            "staff.create": _l("%(actor)s added a staff member"),
            "staff.role_change": _l("%(actor)s changed a staff member's role"),
            "setting.update": _l("%(actor)s changed the setting %(id)s"),
        }
    )
