"""E-mail about tickets: acknowledgement, staff reply, status change, closure, escalation.

Every message goes through the outbox in the caller's transaction. Mail to the client carries the
ticket reference in the subject ("[#K7QM4ZP2] …") and threading headers (In-Reply-To the last
message we received, References the whole thread), so a reply finds its ticket either way; its
Message-ID is recorded against the ticket for the same reason. Automatic mail is marked
``Auto-Submitted`` (RFC 3834) so that well-behaved auto-responders stay quiet.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.utils import formataddr
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from portal.accounts.models.contact import Contact
from portal.accounts.models.staff import Staff
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.messaging.outbox import Attachment, new_message_id, queue_email
from portal.messaging.sources import MailKind
from portal.messaging.templates import external_url
from portal.support.attachments import path_of
from portal.support.inbound_mail import REPLY_MARKER
from portal.support.models.support import DepartmentSupport
from portal.support.models.ticket import (
    PRIORITY_LABELS,
    STATUS_LABELS,
    Ticket,
    TicketMailId,
    TicketMessage,
    TicketStatus,
)

#: Staff reply attachments are mailed along when they add up to no more than this.
MAIL_ATTACHMENTS_MAX = 5 * 1024 * 1024
FEEDBACK_SALT = "ticket-feedback"
FEEDBACK_MAX_AGE = 90 * 24 * 3600
THREAD_DEPTH = 20


def subject_for(ticket: Ticket) -> str:
    return f"[#{ticket.reference}] {ticket.subject}"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FEEDBACK_SALT)


def feedback_token(ticket: Ticket) -> str:
    return _serializer().dumps({"t": ticket.id, "r": ticket.reference})


def ticket_from_feedback_token(token: str) -> Ticket | None:
    try:
        data = _serializer().loads(token, max_age=FEEDBACK_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    ticket = db.session.get(Ticket, data.get("t"))
    if ticket is None or ticket.reference != data.get("r"):
        return None
    return ticket


def support_settings(department_id: int | None) -> DepartmentSupport:
    """The department's support settings, or the defaults when it has none."""
    row = db.session.get(DepartmentSupport, department_id) if department_id else None
    return row or DepartmentSupport(accept_guests=True, send_acknowledgement=True, signature="")


def _locale(ticket: Ticket) -> str:
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    return (ticket.client.language if ticket.client is not None else None) or default


def _sender(ticket: Ticket) -> tuple[str, str]:
    """From and Reply-To: the department's address, so replies are piped back to it."""
    cfg = current_app.config["PORTAL"]
    department = ticket.department
    address = (department.email if department is not None else "") or cfg["mail_from"]
    name = cfg["company_name"] + (f" — {department.name}" if department is not None else "")
    return formataddr((name, address)), address


def recipients(ticket: Ticket) -> tuple[list[str], list[str]]:
    """(to, cc): the requester; the ticket's CC and the client's contacts who receive support
    mail."""
    to = [ticket.requester_email] if ticket.requester_email else []
    cc = list(ticket.cc or [])
    if ticket.client_id is not None:
        contacts = db.session.scalars(
            select(Contact).where(
                Contact.client_id == ticket.client_id, Contact.is_active.is_(True)
            )
        )
        cc += [c.email for c in contacts if MailKind.SUPPORT in (c.receives or [])]
    lowered = {address.lower() for address in to}
    unique: list[str] = []
    for address in cc:
        if address.lower() not in lowered:
            lowered.add(address.lower())
            unique.append(address)
    return to, unique


def thread_headers(ticket: Ticket) -> dict[str, str]:
    rows = db.session.execute(
        select(TicketMailId.message_id, TicketMailId.inbound)
        .where(TicketMailId.ticket_id == ticket.id)
        # At the same instant a received message precedes our answer to it.
        .order_by(TicketMailId.created_at, TicketMailId.inbound.desc(), TicketMailId.message_id)
    ).all()
    headers = {"X-Portal-Ticket": ticket.reference}
    if rows:
        inbound = [message_id for message_id, is_inbound in rows if is_inbound]
        headers["In-Reply-To"] = (inbound or [rows[-1][0]])[-1]
        headers["References"] = " ".join(message_id for message_id, _in in rows[-THREAD_DEPTH:])
    return headers


def _client_link(ticket: Ticket) -> str | None:
    if ticket.client_id is None:
        return None
    return external_url("client_tickets.view", reference=ticket.reference)


def _queue(
    ticket: Ticket,
    template: str,
    subject: str,
    *,
    automatic: bool = False,
    attachments: Iterable[Attachment] = (),
    dedupe_key: str | None = None,
    **context: Any,
) -> None:
    if ticket.staff_only:
        return  # nothing about a staff-only ticket ever reaches the client
    to, cc = recipients(ticket)
    if not to:
        return
    from_addr, reply_to = _sender(ticket)
    headers = thread_headers(ticket)
    if automatic:
        headers["Auto-Submitted"] = "auto-replied"
    message_id = new_message_id()
    with force_locale(_locale(ticket)):
        text = render_template(
            f"mail/{template}",
            ticket=ticket,
            marker=REPLY_MARKER,
            link=_client_link(ticket),
            status_labels=STATUS_LABELS,
            priority_labels=PRIORITY_LABELS,
            **context,
        )
        subject_text = subject if subject else subject_for(ticket)
    row = queue_email(
        to=to,
        cc=cc,
        subject=subject_text,
        text=text,
        from_addr=from_addr,
        reply_to=reply_to,
        headers=headers,
        attachments=list(attachments),
        client_id=ticket.client_id,
        dedupe_key=dedupe_key,
        message_id=message_id,
    )
    if row.message_id == message_id:
        db.session.add(
            TicketMailId(
                message_id=message_id, ticket_id=ticket.id, inbound=False, created_at=clock().now()
            )
        )
        db.session.flush()


def acknowledge(ticket: Ticket, message: TicketMessage) -> None:
    if not support_settings(ticket.department_id).send_acknowledgement:
        return
    _queue(ticket, "ticket_opened.txt", "", automatic=True, message=message)


def _mail_attachments(message: TicketMessage) -> list[Attachment]:
    total = sum(a.size for a in message.attachments)
    if not message.attachments or total > MAIL_ATTACHMENTS_MAX:
        return []
    return [
        Attachment(a.filename, a.content_type, path_of(a).read_bytes()) for a in message.attachments
    ]


def staff_reply(ticket: Ticket, message: TicketMessage) -> None:
    signature = support_settings(ticket.department_id).signature
    attached = _mail_attachments(message)
    _queue(
        ticket,
        "ticket_reply.txt",
        "",
        message=message,
        signature=signature,
        attachments=attached,
        too_large=bool(message.attachments) and not attached,
    )


def status_changed(ticket: Ticket, old: TicketStatus) -> None:
    _queue(ticket, "ticket_status.txt", "", automatic=True, old=old)


def closed(ticket: Ticket, *, dedupe_key: str | None = None, automatically: bool = False) -> None:
    _queue(
        ticket,
        "ticket_closed.txt",
        "",
        automatic=True,
        dedupe_key=dedupe_key,
        automatically=automatically,
        feedback_link=external_url("ticket_feedback.rate", token=feedback_token(ticket)),
    )


def escalated(ticket: Ticket, rule_name: str, addresses: list[str], dedupe_key: str) -> None:
    """Tell staff (not the client) that a rule escalated the ticket."""
    if not addresses:
        return
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(default):
        text = render_template(
            "mail/ticket_escalated.txt",
            ticket=ticket,
            rule_name=rule_name,
            link=external_url("admin_support.view", ticket_id=ticket.id),
            status_labels=STATUS_LABELS,
            priority_labels=PRIORITY_LABELS,
        )
        subject = _("Escalated: %(subject)s", subject=subject_for(ticket))
    queue_email(
        to=addresses,
        subject=subject,
        text=text,
        headers={"Auto-Submitted": "auto-generated", "X-Portal-Ticket": ticket.reference},
        dedupe_key=dedupe_key,
    )


def staff_addresses(staff: Staff | None) -> list[str]:
    return [staff.email] if staff is not None and staff.is_active else []
