"""tbltickets + tblticketreplies + tblticketnotes -> tickets, their messages and staff notes.

- The ticket's first message is WHMCS's ``tbltickets.message``; replies by an admin (``admin``
  set) are staff messages, the others the client's; ticket notes are internal notes.
- Every ticket gets a new random reference (the portal's references must not be guessable;
  WHMCS's are six digits); WHMCS's own number is kept as the ticket's tag ``whmcs-<tid>`` so
  staff find it by the number the client quotes.
- Imported tickets get no SLA targets and send nothing: no acknowledgement, no notification
  (the support services that open and answer tickets mail and fire hooks; the import writes
  the rows directly).
- Attachments (files in WHMCS's attachments folder) are not carried over: their names are
  appended to the message.
"""

from __future__ import annotations

import heapq
from datetime import datetime

from portal.accounts import audit
from portal.core.extensions import db
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.steps.staff import staff_for
from portal.imports.whmcs.values import fit, moment
from portal.support.models import (
    MessageKind,
    MessageSource,
    Ticket,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketTag,
)
from portal.support.tickets import new_reference

TICKETS = "tbltickets"
REPLIES = "tblticketreplies"
NOTES = "tblticketnotes"
STATUSES = {
    "open": TicketStatus.OPEN,
    "answered": TicketStatus.ANSWERED,
    "customer-reply": TicketStatus.CUSTOMER_REPLY,
    "on hold": TicketStatus.ON_HOLD,
    "in progress": TicketStatus.IN_PROGRESS,
    "closed": TicketStatus.CLOSED,
}
PRIORITIES = {
    "low": TicketPriority.LOW,
    "medium": TicketPriority.MEDIUM,
    "high": TicketPriority.HIGH,
    "urgent": TicketPriority.URGENT,
}


def run(ctx: ImportContext) -> None:
    for row in ctx.rows(TICKETS, changed=("updated_at", "lastreply", "date")):
        ctx.sync(
            TICKETS,
            row,
            target_table="ticket",
            write=lambda existing, row=row: _ticket(ctx, row, existing),
            exists=lambda target: db.session.get(Ticket, target) is not None,
        )
    # Replies and notes in the order they were written, so that the portal's messages (shown
    # in id order) read as the conversation did.
    replies = (
        (row["date"] or datetime.min, 0, row)
        for row in ctx.rows(REPLIES, changed=("date",), order_by=("date", "id"))
    )
    notes = (
        (row["date"] or datetime.min, 1, row)
        for row in ctx.rows(NOTES, changed=("date",), order_by=("date", "id"))
    )
    for _at, is_note, row in heapq.merge(replies, notes, key=lambda item: (item[0], item[1])):
        ctx.sync(
            NOTES if is_note else REPLIES,
            row,
            target_table="ticket_message",
            write=lambda existing, row=row, is_note=is_note: (
                _note(ctx, row, existing) if is_note else _reply(ctx, row, existing)
            ),
            exists=_message_exists,
        )


def _message_exists(target: int) -> bool:
    return db.session.get(TicketMessage, target) is not None


def _with_attachments(message: object, attachment: object) -> str:
    body = str(message or "").strip()
    names = [name.split("_", 1)[-1] for name in str(attachment or "").split("|") if name]
    if names:
        body += "\n\n[WHMCS attachments not carried over: " + ", ".join(names) + "]"
    return body


def _ticket(ctx: ImportContext, row: dict, existing: int | None) -> int:
    source_id = row["id"]
    client_id = ctx.mappings.target_id("tblclients", row["userid"]) if row["userid"] else None
    if row["userid"] and client_id is None:
        raise Refused(f"its client #{row['userid']} was not imported")
    if row["merged_ticket_id"]:
        raise Refused(f"merged into WHMCS ticket #{row['merged_ticket_id']}")
    opened = moment(ctx, row["date"]) or ctx.now
    last = moment(ctx, row["lastreply"]) or opened
    status = STATUSES.get(str(row["status"] or "").strip().lower())
    if status is None:
        ctx.report.refused_value(
            TICKETS, source_id, "status", f"custom status {row['status']!r}: imported as open"
        )
        status = TicketStatus.OPEN
    ticket = db.session.get(Ticket, existing) if existing else None
    if ticket is None:
        # Empty collections given: a new ticket's tags and messages are not looked up.
        ticket = Ticket(
            reference=new_reference(), created_at=opened, cc=[], messages=[], tag_rows=[]
        )
        db.session.add(ticket)
    ticket.client_id = client_id
    ticket.contact_id = (
        ctx.mappings.target_id("tblcontacts", row["contactid"]) if row["contactid"] else None
    )
    if client_id is None:
        ticket.guest_email = fit(ctx, TICKETS, source_id, "email", row["email"], 254).lower()
        ticket.guest_name = fit(ctx, TICKETS, source_id, "name", row["name"], 200)
    ticket.department_id = ctx.mappings.target_id("tblticketdepartments", row["did"])
    ticket.priority = PRIORITIES.get(str(row["urgency"] or "").lower(), TicketPriority.MEDIUM)
    ticket.status = status
    ticket.subject = fit(ctx, TICKETS, source_id, "title", row["title"], 255) or "—"
    ticket.cc = [part.strip() for part in str(row["cc"] or "").split(",") if part.strip()]
    ticket.updated_at = moment(ctx, row["updated_at"]) or last
    ticket.last_reply_at = last
    ticket.closed_at = last if status is TicketStatus.CLOSED else None
    db.session.flush()
    tag = f"whmcs-{row['tid']}"[:50]
    if tag not in ticket.tags:
        ticket.tag_rows.append(TicketTag(name=tag))
    _first_message(ctx, ticket, row, opened)
    audit.record(
        "ticket.import",
        "ticket",
        ticket.id,
        client_id=client_id,
        note=f"WHMCS ticket #{row['tid']}",
        system="whmcs import",
    )
    return ticket.id


def _first_message(ctx: ImportContext, ticket: Ticket, row: dict, opened: datetime) -> None:
    """The opening message lives in the ticket row in WHMCS; it is the ticket's first message
    in the portal (made once, updated with the ticket)."""
    first = ticket.messages[0] if ticket.messages else None
    if first is None:
        first = TicketMessage(ticket=ticket, source=MessageSource.WEB, created_at=opened)
        db.session.add(first)
    by_staff = bool(str(row["admin"] or "").strip())
    first.kind = MessageKind.STAFF if by_staff else MessageKind.CLIENT
    first.staff_id = staff_for(ctx, row["admin"]) if by_staff else None
    if by_staff:
        ticket.opened_by_staff_id = first.staff_id
    first.author_name = str(row["admin"] if by_staff else row["name"] or "")[:200]
    first.author_email = "" if by_staff else str(row["email"] or "")[:254]
    first.body = _with_attachments(row["message"], row["attachment"])


def _ticket_for(ctx: ImportContext, source_ticket: int) -> Ticket:
    ticket_id = ctx.mappings.target_id(TICKETS, source_ticket)
    ticket = db.session.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket is None:
        raise Refused(f"its ticket #{source_ticket} was not imported")
    return ticket


def _message(ctx: ImportContext, ticket: Ticket, existing: int | None, at: datetime):
    message = db.session.get(TicketMessage, existing) if existing else None
    if message is None:
        message = TicketMessage(ticket_id=ticket.id, source=MessageSource.WEB, created_at=at)
        db.session.add(message)
    return message


def _reply(ctx: ImportContext, row: dict, existing: int | None) -> int:
    ticket = _ticket_for(ctx, row["tid"])
    at = moment(ctx, row["date"]) or ctx.now
    message = _message(ctx, ticket, existing, at)
    by_staff = bool(str(row["admin"] or "").strip())
    message.kind = MessageKind.STAFF if by_staff else MessageKind.CLIENT
    message.staff_id = staff_for(ctx, row["admin"]) if by_staff else None
    message.author_name = str(row["admin"] if by_staff else row["name"] or "")[:200]
    message.author_email = "" if by_staff else str(row["email"] or "")[:254]
    message.body = _with_attachments(row["message"], row["attachment"])
    if by_staff and (ticket.last_staff_reply_at is None or ticket.last_staff_reply_at < at):
        ticket.last_staff_reply_at = at
        if ticket.first_response_at is None or ticket.first_response_at > at:
            ticket.first_response_at = at
    db.session.flush()
    return message.id


def _note(ctx: ImportContext, row: dict, existing: int | None) -> int:
    ticket = _ticket_for(ctx, row["ticketid"])
    message = _message(ctx, ticket, existing, moment(ctx, row["date"]) or ctx.now)
    message.kind = MessageKind.NOTE
    message.staff_id = staff_for(ctx, row["admin"])
    message.author_name = str(row["admin"] or "")[:200]
    message.body = _with_attachments(row["message"], row["attachments"])
    db.session.flush()
    return message.id
