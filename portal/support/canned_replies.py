"""Canned replies: prepared answers with variables filled in for the ticket at hand.

Variables are written in braces: ``{client_name}``, ``{client_first_name}``, ``{ticket_ref}``,
``{ticket_subject}``, ``{department}``, ``{staff_name}``, ``{company_name}``. An unknown variable
is left as it is, so a typo shows up in the reply box instead of silently disappearing.
"""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from portal.accounts import audit
from portal.accounts.models.staff import Staff
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.support.models.support import CannedReply
from portal.support.models.ticket import Ticket

VARIABLES = (
    "client_name",
    "client_first_name",
    "ticket_ref",
    "ticket_subject",
    "department",
    "staff_name",
    "company_name",
)
_VARIABLE = re.compile(r"\{([a-z_]+)\}")


class CannedReplyError(ValueError):
    pass


def for_department(department_id: int | None) -> list[CannedReply]:
    stmt = select(CannedReply).order_by(CannedReply.title)
    if department_id is not None:
        stmt = stmt.where(
            or_(CannedReply.department_id.is_(None), CannedReply.department_id == department_id)
        )
    return list(db.session.scalars(stmt))


def variables(ticket: Ticket, staff: Staff) -> dict[str, str]:
    client = ticket.client
    return {
        "client_name": ticket.requester_name,
        "client_first_name": (
            ticket.contact.first_name
            if ticket.contact
            else client.first_name
            if client
            else ticket.guest_name or ""
        ),
        "ticket_ref": f"#{ticket.reference}",
        "ticket_subject": ticket.subject,
        "department": ticket.department.name if ticket.department else "",
        "staff_name": staff.full_name,
        "company_name": current_app.config["PORTAL"]["company_name"],
    }


def render(reply: CannedReply, ticket: Ticket, staff: Staff) -> str:
    values = variables(ticket, staff)
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), reply.body)


def save(
    reply: CannedReply | None, *, title: str, body: str, department_id: int | None
) -> CannedReply:
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise CannedReplyError(_("A canned reply needs a title and a text."))
    before = audit.snapshot(reply, ("title", "body", "department_id")) if reply else None
    if reply is None:
        reply = CannedReply(created_at=clock().now())
        db.session.add(reply)
    reply.title, reply.body, reply.department_id = title[:200], body, department_id
    db.session.flush()
    after = audit.snapshot(reply, ("title", "body", "department_id"))
    audit.record_saved("canned_reply", "canned_reply", reply.id, before, after)
    db.session.commit()
    return reply


def delete(reply: CannedReply) -> None:
    audit.record(
        "canned_reply.delete",
        "canned_reply",
        reply.id,
        before={"title": reply.title, "body": reply.body},
    )
    db.session.delete(reply)
    db.session.commit()
