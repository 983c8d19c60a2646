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
    a.register_form_labels(ClientForm, entity="client")
    a.register_form_labels(ContactForm, entity="contact")
    for field in ("manager_id", "sales_manager_id"):
        a.register_field(
            field,
            _l("Personal manager") if field == "manager_id" else _l("Sales manager"),
            a.staff_name,
            entity="client",
        )

    a.register_sentence("client.create", _l("%(actor)s created the client %(object)s"))
    a.register_sentence("client.update", _l("%(actor)s changed the client's details"))
    a.register_sentence("client.delete", _l("%(actor)s deleted the client %(object)s"))
    a.register_sentence("client.close", _l("%(actor)s closed the client's account"))
    a.register_sentence("client.merge", _l("%(actor)s merged another client into this one"))
    a.register_sentence("client.email", _l("%(actor)s changed the client's e-mail address"))
    a.register_sentence("client.password", _l("%(actor)s changed the client's password"))
    a.register_sentence("client.login_as", _l("%(actor)s signed in as the client"))
    a.register_sentence("client.login_as_end", _l("%(actor)s stopped acting as the client"))
    a.register_sentence("client.custom_fields", _l("%(actor)s changed the client's custom fields"))
    a.register_sentence("contact.create", _l("%(actor)s added a contact"))
    a.register_sentence("contact.update", _l("%(actor)s changed a contact"))
    a.register_sentence("contact.delete", _l("%(actor)s deleted a contact"))
    a.register_sentence("note.create", _l("%(actor)s added a note"))
    a.register_sentence("note.update", _l("%(actor)s changed a note"))
    a.register_sentence("note.delete", _l("%(actor)s deleted a note"))
    a.register_sentence("staff.create", _l("%(actor)s added a staff member"))
    a.register_sentence("staff.role_change", _l("%(actor)s changed a staff member's role"))
    a.register_sentence("setting.update", _l("%(actor)s changed the setting %(id)s"))
