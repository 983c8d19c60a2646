"""How ticket entries in the audit log read (the registry: portal.accounts.audit_sentences)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts import audit_sentences as a
from portal.core.extensions import db
from portal.support.models.ticket import PRIORITY_LABELS, STATUS_LABELS


def _department(value: Any) -> str:
    from portal.accounts.models import Department

    if value in (None, ""):
        return "—"
    try:
        department = db.session.get(Department, int(value))
    except (TypeError, ValueError):
        return str(value)
    return department.name if department is not None else _("a deleted department")


def register_audit_sentences() -> None:
    a.register_entity("ticket", _l("the ticket #%(id)s"))
    a.register_field("status", _l("Status"), a.enum_labels(STATUS_LABELS), entity="ticket")
    a.register_field("priority", _l("Priority"), a.enum_labels(PRIORITY_LABELS), entity="ticket")
    a.register_field("assigned_staff_id", _l("Assigned to"), a.staff_name, entity="ticket")
    a.register_field("department_id", _l("Department"), _department, entity="ticket")
    a.register_field("tags", _l("Tags"), entity="ticket")
    a.register_field("cc", _l("CC"), entity="ticket")
    a.register_field("service_id", _l("Service"), entity="ticket")
    a.register_field("subject", _l("Subject"), entity="ticket")
    a.register_field("reference", _l("Ticket"), entity="ticket")
    a.register_field("score", _l("Rating"), entity="ticket")
    a.register_field("comment", _l("Comment"), entity="ticket")
    a.register_field("into", _l("Merged into"), entity="ticket")
    a.register_field("merged", _l("Merged tickets"), entity="ticket")
    a.register_field("rule", _l("Escalation rule"), entity="ticket")

    a.register_sentences(
        {
            "ticket.create": _l("%(actor)s opened the ticket %(reference)s"),
            "ticket.update": _l("%(actor)s changed the ticket"),
            "ticket.update:assigned_staff_id": _l(
                "%(actor)s assigned the ticket to %(assigned_staff_id)s"
            ),
            "ticket.update:department_id": _l(
                "%(actor)s moved the ticket to the department %(department_id)s"
            ),
            "ticket.update:status": _l(
                "%(actor)s changed the ticket's status: %(old_status)s → %(status)s"
            ),
            "ticket.update:priority": _l(
                "%(actor)s changed the ticket's priority: %(old_priority)s → %(priority)s"
            ),
            "ticket.reopen": _l("%(actor)s reopened the ticket"),
            "ticket.close": _l("%(actor)s closed the ticket"),
            "ticket.auto_close": _l("The ticket was closed automatically"),
            "ticket.feedback": _l("%(actor)s rated the answer: %(score)s"),
            "ticket.merge:into": _l("%(actor)s merged the ticket into %(into)s"),
            "ticket.merge:merged": _l("%(actor)s merged the tickets %(merged)s into this one"),
            "ticket.escalate": _l("The ticket was escalated by the rule %(rule)s"),
            "ticket.import": _l("%(actor)s imported the ticket"),
            "canned_reply.delete": _l("%(actor)s deleted a canned reply"),
        }
    )
