"""Ticket use cases: open, reply, note, reassign, change, close, reopen, merge, rate, search.

Each function owns its transaction: it commits the ticket change, its audit entry and the mail
it causes together, and on failure rolls back and removes any attachment file it wrote. Staff
replies and notes are kept apart at the source: a note is a message of kind ``note`` and every
client-facing query and e-mail leaves that kind out.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, exists, false, func, or_, select, update
from sqlalchemy.orm import lazyload, selectinload

from portal.accounts import audit
from portal.accounts.models.client import Client
from portal.accounts.models.contact import Contact
from portal.accounts.models.department import Department
from portal.accounts.models.permissions import Permission
from portal.accounts.models.staff import Staff
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.platform import search
from portal.platform.hooks import events
from portal.support import attachments, notifications, sla
from portal.support.models.ticket import (
    AWAITING_STAFF,
    MessageKind,
    MessageSource,
    Ticket,
    TicketAssignment,
    TicketAttachment,
    TicketMailId,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketTag,
    TicketVisibility,
)
from portal.web.paging import Page, keyset_page
from portal.web.query_args import db_id, strict_int

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8
#: "[#K7QM4ZP2]", also with a word before the hash ("[Ticket #K7QM4ZP2]").
SUBJECT_REFERENCE = re.compile(r"\[[^\[\]#]{0,40}#([A-HJ-NP-Z2-9]{8})\]")
AUDITED = ("department_id", "priority", "status", "assigned_staff_id", "tags", "cc", "service_id")
QUEUES = ("awaiting", "mine", "department", "done_by_me", "all")


class TicketError(ValueError):
    """A problem the user can fix; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- helpers ----------------------------------------------------------------------------------


def new_reference() -> str:
    """A random reference (32^8 ≈ 10^12 values), so one client cannot guess another's."""
    while True:
        reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if db.session.scalar(select(Ticket.id).where(Ticket.reference == reference)) is None:
            return reference


def reference_in(subject: str) -> str | None:
    match = SUBJECT_REFERENCE.search(subject or "")
    return match.group(1) if match else None


def by_reference(reference: str) -> Ticket | None:
    """The ticket with this reference, following merges to the ticket that absorbed it."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.reference == reference.upper()))
    for _hop in range(10):
        if ticket is None or ticket.merged_into_id is None:
            break
        ticket = db.session.get(Ticket, ticket.merged_into_id)
    return ticket


def service_choices(client_id: int) -> list[tuple[int, str]]:
    """The client's services a ticket can be about (not the terminated or cancelled ones)."""
    from portal.catalog.models import Product
    from portal.orders.models import Service, ServiceStatus

    rows = db.session.execute(
        select(Service.id, Product.name)
        .join(Product, Product.id == Service.product_id)
        .where(
            Service.client_id == client_id,
            Service.status.not_in((ServiceStatus.TERMINATED, ServiceStatus.CANCELLED)),
        )
        .order_by(Product.name)
    )
    return [(service_id, name) for service_id, name in rows]


def related_service(ticket: Ticket) -> Any:
    """The service the ticket is about (the ticket page shows its name, status and a link), or
    None: only one of the ticket's own client, so a stale or foreign id shows nothing."""
    from portal.orders.models import Service

    if ticket.service_id is None or ticket.client_id is None:
        return None
    return db.session.scalar(
        select(Service)
        .where(Service.id == ticket.service_id, Service.client_id == ticket.client_id)
        .options(selectinload(Service.product))
    )


def clean_cc(addresses: Iterable[str] | str) -> list[str]:
    """Addresses from a list or from text separated by commas, semicolons or new lines."""
    items = re.split(r"[,;\s]+", addresses) if isinstance(addresses, str) else list(addresses)
    result: list[str] = []
    for item in items:
        item = item.strip().lower()
        if not item:
            continue
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", item):
            raise TicketError(_("“%(address)s” is not an e-mail address.", address=item), "cc")
        if item not in result:
            result.append(item)
    return result


def clean_tags(tags: Iterable[str] | str) -> list[str]:
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    return sorted({" ".join(tag.split()).lower()[:50] for tag in items if tag.strip()})


@contextlib.contextmanager
def _transaction() -> Iterator[list[Path]]:
    """Commit on success; on any error roll back and delete the files written meanwhile."""
    written: list[Path] = []
    try:
        yield written
        db.session.commit()
    except BaseException:
        db.session.rollback()
        attachments.discard(written)
        raise


def _check_uploads(uploads: Sequence[attachments.Upload]) -> None:
    try:
        for upload in uploads:
            attachments.check(upload)
    except attachments.AttachmentError as exc:
        raise TicketError(str(exc), "attachments") from None


def append_message(
    ticket: Ticket,
    kind: MessageKind,
    body: str,
    now: datetime,
    written: list[Path],
    *,
    body_html: str | None = None,
    staff: Staff | None = None,
    author_name: str = "",
    author_email: str = "",
    source: MessageSource = MessageSource.WEB,
    uploads: Sequence[attachments.Upload] = (),
) -> TicketMessage:
    opening = not ticket.messages
    message = TicketMessage(
        ticket_id=ticket.id,
        kind=kind,
        source=source,
        staff_id=staff.id if staff is not None else None,
        author_name=(staff.full_name if staff is not None else author_name)[:200],
        author_email=(staff.email if staff is not None else author_email)[:254],
        body=body,
        body_html=body_html,
        created_at=now,
    )
    ticket.messages.append(message)
    db.session.flush()
    if uploads:
        attachments.store(message, uploads, now, written=written)
    if not opening:
        events.fire("ticket_replied", ticket=ticket, message=message)
    return message


def _record_mail_id(ticket: Ticket, message_id: str | None, now: datetime) -> None:
    if message_id and db.session.get(TicketMailId, message_id) is None:
        db.session.add(
            TicketMailId(message_id=message_id, ticket_id=ticket.id, inbound=True, created_at=now)
        )


def assignable_staff() -> list[Staff]:
    """Active staff whose role may answer tickets: the only ones a ticket can be assigned to
    (a billing-only accountant given a ticket could neither open nor answer it)."""
    active = db.session.scalars(
        select(Staff)
        .where(Staff.is_active.is_(True))
        .order_by(Staff.first_name, Staff.id)
        .options(lazyload(Staff.departments))  # a name to choose: no departments
    )
    return [member for member in active if member.can(Permission.SUPPORT_REPLY)]


def record_assignment(ticket: Ticket, by: Staff | None, now: datetime) -> None:
    db.session.add(
        TicketAssignment(
            ticket_id=ticket.id,
            staff_id=ticket.assigned_staff_id,
            department_id=ticket.department_id,
            assigned_by_id=by.id if by is not None else None,
            created_at=now,
        )
    )


def _snapshot(ticket: Ticket) -> dict[str, Any]:
    return audit.snapshot(ticket, AUDITED)


def _set_tags(ticket: Ticket, tags: Iterable[str]) -> None:
    wanted = set(clean_tags(tags))
    for row in list(ticket.tag_rows):
        if row.name not in wanted:
            ticket.tag_rows.remove(row)
    have = {row.name for row in ticket.tag_rows}
    for name in sorted(wanted - have):
        ticket.tag_rows.append(TicketTag(name=name))


def _notes_for_refused(
    ticket: Ticket, refused: Sequence[str], now: datetime, written: list[Path]
) -> None:
    if refused:
        text = _("Attachments not accepted:") + "\n" + "\n".join(f"- {r}" for r in refused)
        append_message(ticket, MessageKind.NOTE, text, now, written, source=MessageSource.SYSTEM)


# --- opening ----------------------------------------------------------------------------------


def open_ticket(
    *,
    subject: str,
    body: str,
    department_id: int | None,
    client: Client | None = None,
    contact: Contact | None = None,
    guest_email: str = "",
    guest_name: str = "",
    priority: TicketPriority | str | None = None,
    service_id: int | None = None,
    cc: Iterable[str] = (),
    uploads: Sequence[attachments.Upload] = (),
    refused_uploads: Sequence[str] = (),
    body_html: str | None = None,
    source: MessageSource = MessageSource.WEB,
    email_message_id: str | None = None,
    staff: Staff | None = None,
    internal: bool = False,
    staff_only: bool = False,
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket from the client area, an e-mail or staff (on a client's behalf).

    A staff member opening a ticket either writes to the client (the message is mailed, the
    ticket is "answered") or, with ``internal``, files an internal request for a department
    (the first message is a note, the ticket waits for that department). Internal requests
    and tickets opened with ``staff_only`` (a plugin's provisioning task) are staff-only: the
    client never sees, answers or closes them and gets no mail about them.
    """
    now = now or clock().now()
    subject = " ".join((subject or "").split())[:255]
    if not subject:
        raise TicketError(_("Enter a subject."), "subject")
    if not (body or "").strip() and not uploads:
        raise TicketError(_("Write a message."), "body")
    if client is None and not guest_email:
        raise TicketError(_("Choose a client."), "client_id")
    if department_id is not None and db.session.get(Department, department_id) is None:
        raise TicketError(_("Choose a department."), "department_id")
    if (
        service_id is not None
        and client is not None
        and service_id not in {sid for sid, _label in service_choices(client.id)}
    ):
        raise TicketError(_("Choose one of your services."), "service_id")
    _check_uploads(uploads)
    with _transaction() as written:
        ticket = Ticket(
            reference=new_reference(),
            client=client,
            contact=contact,
            guest_email=guest_email.lower() if client is None else "",
            guest_name=guest_name[:200] if client is None else "",
            service_id=service_id,
            department_id=department_id,
            status=TicketStatus.OPEN,
            visibility=(
                TicketVisibility.STAFF
                if staff_only or (internal and staff is not None)
                else TicketVisibility.CLIENT
            ),
            opened_by_staff_id=staff.id if staff is not None else None,
            subject=subject,
            cc=clean_cc(cc),
            created_at=now,
            updated_at=now,
            last_reply_at=now,
        )
        db.session.add(ticket)
        db.session.flush()
        targets = sla.start_clock(ticket, now)
        ticket.priority = TicketPriority(priority or targets.priority or TicketPriority.MEDIUM)
        if staff is None:
            author = (
                contact.full_name
                if contact
                else (client.person_name if client else guest_name or guest_email)
            )
            email = contact.email if contact else (client.email if client else guest_email)
            kind = MessageKind.CLIENT
        else:
            author, email = "", ""
            kind = MessageKind.NOTE if internal else MessageKind.STAFF
        message = append_message(
            ticket,
            kind,
            body.strip(),
            now,
            written,
            body_html=body_html,
            staff=staff,
            author_name=author,
            author_email=email,
            source=source,
            uploads=uploads,
        )
        _notes_for_refused(ticket, refused_uploads, now, written)
        if kind == MessageKind.STAFF:
            ticket.status = TicketStatus.ANSWERED
            ticket.first_response_at = ticket.last_staff_reply_at = now
            ticket.response_due_at = None
        record_assignment(ticket, staff, now)
        _record_mail_id(ticket, email_message_id, now)
        audit.record(
            "ticket.create",
            "ticket",
            ticket.id,
            after={"reference": ticket.reference, "subject": subject, **_snapshot(ticket)},
            client_id=ticket.client_id,
        )
        if kind == MessageKind.STAFF:
            notifications.staff_reply(ticket, message)
        elif kind == MessageKind.CLIENT:
            notifications.acknowledge(ticket, message)
        events.fire("ticket_opened", ticket=ticket)
    return ticket


# --- messages ---------------------------------------------------------------------------------


def client_reply(
    ticket: Ticket,
    *,
    body: str,
    author_name: str,
    author_email: str,
    body_html: str | None = None,
    uploads: Sequence[attachments.Upload] = (),
    refused_uploads: Sequence[str] = (),
    source: MessageSource = MessageSource.WEB,
    email_message_id: str | None = None,
    now: datetime | None = None,
) -> TicketMessage:
    """The client (or a guest, or someone copied) writes again; a closed ticket reopens."""
    now = now or clock().now()
    _refuse_client_action(ticket)
    if not (body or "").strip() and not uploads:
        raise TicketError(_("Write a message."), "body")
    _check_uploads(uploads)
    with _transaction() as written:
        message = append_message(
            ticket,
            MessageKind.CLIENT,
            body.strip(),
            now,
            written,
            body_html=body_html,
            author_name=author_name,
            author_email=author_email,
            source=source,
            uploads=uploads,
        )
        _notes_for_refused(ticket, refused_uploads, now, written)
        before = ticket.status
        if before == TicketStatus.CLOSED:
            ticket.closed_at = None
            audit.record(
                "ticket.reopen",
                "ticket",
                ticket.id,
                before={"status": before.value},
                after={"status": "customer_reply"},
                client_id=ticket.client_id,
            )
        ticket.status = TicketStatus.CUSTOMER_REPLY
        ticket.last_reply_at = ticket.updated_at = now
        sla.awaiting_staff_since(ticket, now)
        _record_mail_id(ticket, email_message_id, now)
    return message


def staff_reply(
    ticket: Ticket,
    staff: Staff,
    body: str,
    *,
    uploads: Sequence[attachments.Upload] = (),
    status: TicketStatus | str = TicketStatus.ANSWERED,
    now: datetime | None = None,
) -> TicketMessage:
    """A reply the client sees and receives by e-mail (with CC and threading headers)."""
    now = now or clock().now()
    status = TicketStatus(status)
    if ticket.staff_only:
        raise TicketError(
            _("The client does not see this ticket: add an internal note instead."), "body"
        )
    if not (body or "").strip():
        raise TicketError(_("Write a reply."), "body")
    _check_uploads(uploads)
    with _transaction() as written:
        message = append_message(
            ticket, MessageKind.STAFF, body.strip(), now, written, staff=staff, uploads=uploads
        )
        before = ticket.status
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        ticket.last_staff_reply_at = ticket.last_reply_at = ticket.updated_at = now
        ticket.response_due_at = None
        ticket.status = status
        if status == TicketStatus.CLOSED:
            ticket.closed_at = now
        elif before == TicketStatus.CLOSED:
            ticket.closed_at = None
        if before != status:
            audit.record(
                "ticket.update",
                "ticket",
                ticket.id,
                before={"status": before.value},
                after={"status": status.value},
                client_id=ticket.client_id,
            )
        notifications.staff_reply(ticket, message)
        if status == TicketStatus.CLOSED:
            notifications.closed(ticket)
    return message


def add_note(
    ticket: Ticket,
    staff: Staff,
    body: str,
    *,
    uploads: Sequence[attachments.Upload] = (),
    now: datetime | None = None,
) -> TicketMessage:
    """An internal note: staff only, never mailed, does not change the status or the clocks."""
    now = now or clock().now()
    if not (body or "").strip():
        raise TicketError(_("Write a note."), "body")
    _check_uploads(uploads)
    with _transaction() as written:
        message = append_message(
            ticket, MessageKind.NOTE, body.strip(), now, written, staff=staff, uploads=uploads
        )
        ticket.updated_at = now
    return message


# --- changes ----------------------------------------------------------------------------------


def _apply_status(ticket: Ticket, status: TicketStatus, now: datetime) -> None:
    if status == TicketStatus.CLOSED and ticket.status != TicketStatus.CLOSED:
        ticket.closed_at = now
    elif status != TicketStatus.CLOSED:
        ticket.closed_at = None
        if status in AWAITING_STAFF and ticket.status not in AWAITING_STAFF:
            sla.awaiting_staff_since(ticket, now)
    ticket.status = status


def update_ticket(
    ticket: Ticket,
    staff: Staff | None,
    values: Mapping[str, Any],
    *,
    notify_client: bool = True,
    now: datetime | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Change department, priority, status, assignee, tags, CC or related service.

    A move to another department or staff member is kept in the assignment history; a status
    change is mailed to the client (closure with a feedback link).
    """
    now = now or clock().now()
    before = _snapshot(ticket)
    old_status = ticket.status
    with _transaction():
        if "department_id" in values and values["department_id"] != ticket.department_id:
            if (
                values["department_id"] is not None
                and db.session.get(Department, values["department_id"]) is None
            ):
                raise TicketError(_("Choose a department."), "department_id")
            ticket.department_id = values["department_id"]
            sla.recompute(ticket)
        if "assigned_staff_id" in values:
            assignee = values["assigned_staff_id"]
            if assignee is not None and assignee != ticket.assigned_staff_id:
                member = db.session.get(Staff, assignee)
                if member is None:
                    raise TicketError(_("Choose a staff member."), "assigned_staff_id")
                if not member.is_active or not member.can(Permission.SUPPORT_REPLY):
                    raise TicketError(
                        _(
                            "%(name)s may not answer tickets; choose a staff member whose role "
                            "allows it.",
                            name=member.full_name,
                        ),
                        "assigned_staff_id",
                    )
            ticket.assigned_staff_id = assignee
        if values.get("priority"):
            ticket.priority = TicketPriority(values["priority"])
        if "tags" in values:
            _set_tags(ticket, values["tags"])
        if "cc" in values:
            ticket.cc = clean_cc(values["cc"])
        if "service_id" in values:
            ticket.service_id = values["service_id"]
        if values.get("status"):
            _apply_status(ticket, TicketStatus(values["status"]), now)
        db.session.flush()
        changed_before, changed_after = audit.diff(before, _snapshot(ticket))
        if not changed_after:
            return {}
        ticket.updated_at = now
        if {"department_id", "assigned_staff_id"} & changed_after.keys():
            record_assignment(ticket, staff, now)
        audit.record(
            "ticket.update",
            "ticket",
            ticket.id,
            before=changed_before,
            after=changed_after,
            client_id=ticket.client_id,
        )
        if "status" in changed_after and notify_client:
            if ticket.status == TicketStatus.CLOSED:
                notifications.closed(ticket)
            elif ticket.status not in (TicketStatus.ANSWERED, TicketStatus.CUSTOMER_REPLY):
                notifications.status_changed(ticket, old_status)
    return {key: (changed_before[key], changed_after[key]) for key in changed_after}


def take(ticket: Ticket, staff: Staff) -> None:
    """ "Взять себе": assign the ticket to the staff member who clicks."""
    update_ticket(ticket, staff, {"assigned_staff_id": staff.id})


def close_by_client(ticket: Ticket, now: datetime | None = None) -> None:
    """The client closes their own ticket (they are offered to rate it right away, no mail)."""
    now = now or clock().now()
    _refuse_client_action(ticket)
    if ticket.status == TicketStatus.CLOSED:
        return
    with _transaction():
        before = ticket.status
        ticket.status, ticket.closed_at, ticket.updated_at = TicketStatus.CLOSED, now, now
        ticket.response_due_at = None
        audit.record(
            "ticket.close",
            "ticket",
            ticket.id,
            before={"status": before.value},
            after={"status": "closed"},
            client_id=ticket.client_id,
        )


def rate(ticket: Ticket, score: int, comment: str = "", now: datetime | None = None) -> None:
    """The client's rating of how the ticket was handled (1-5); a later rating replaces it."""
    _refuse_client_action(ticket)
    if not 1 <= int(score) <= 5:
        raise TicketError(_("Choose a rating from 1 to 5."), "score")
    with _transaction():
        before = {"score": ticket.feedback_score, "comment": ticket.feedback_comment}
        ticket.feedback_score, ticket.feedback_comment = int(score), comment.strip()[:2000]
        ticket.feedback_at = now or clock().now()
        audit.record(
            "ticket.feedback",
            "ticket",
            ticket.id,
            before=before,
            after={"score": ticket.feedback_score, "comment": ticket.feedback_comment},
            client_id=ticket.client_id,
        )


def merge(target: Ticket, sources: Sequence[Ticket], staff: Staff) -> None:
    """Merge tickets into ``target``: their messages, attachments, e-mail threads, tags and CC
    move there; each source is closed and points to the target, so mail quoting its reference
    still arrives in the right place."""
    now = clock().now()
    sources = [s for s in sources if s.id != target.id]
    if not sources:
        raise TicketError(_("Choose another ticket to merge into this one."), "merge")
    if any(s.client_id != target.client_id for s in sources):
        raise TicketError(_("Only tickets of the same client can be merged."), "merge")
    if any(s.visibility != target.visibility for s in sources):
        raise TicketError(
            _("A staff-only ticket can be merged only with other staff-only tickets."), "merge"
        )
    with _transaction() as written:
        ids = [s.id for s in sources]
        for model in (TicketMessage, TicketAttachment, TicketMailId, TicketAssignment):
            db.session.execute(
                update(model)
                .where(model.ticket_id.in_(ids))
                .values(ticket_id=target.id)
                .execution_options(synchronize_session=False)
            )
        _set_tags(target, [*target.tags, *(tag for s in sources for tag in s.tags)])
        target.cc = clean_cc([*target.cc, *(a for s in sources for a in s.cc)])
        for source in sources:
            source.status, source.merged_into_id = TicketStatus.CLOSED, target.id
            source.closed_at = source.closed_at or now
            source.response_due_at = None
            audit.record(
                "ticket.merge",
                "ticket",
                source.id,
                after={"into": target.reference},
                client_id=source.client_id,
            )
        references = ", ".join(f"#{s.reference}" for s in sources)
        db.session.flush()
        db.session.expire(target, ["messages"])
        # stored text every staff member reads: in the office's language, not the merger's
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            note = _("Merged tickets %(refs)s into this one.", refs=references)
        append_message(
            target,
            MessageKind.NOTE,
            note,
            now,
            written,
            staff=staff,
        )
        last = db.session.scalar(
            select(func.max(TicketMessage.created_at)).where(
                TicketMessage.ticket_id == target.id, TicketMessage.kind == MessageKind.CLIENT
            )
        )
        if last is not None and (target.last_reply_at is None or last > target.last_reply_at):
            target.last_reply_at = last
        target.updated_at = now
        audit.record(
            "ticket.merge",
            "ticket",
            target.id,
            after={"merged": references},
            client_id=target.client_id,
        )


# --- queries ----------------------------------------------------------------------------------


def _done_by(staff_id: int) -> Any:
    return or_(
        exists().where(
            TicketAssignment.ticket_id == Ticket.id, TicketAssignment.staff_id == staff_id
        ),
        exists().where(
            TicketMessage.ticket_id == Ticket.id,
            TicketMessage.staff_id == staff_id,
            TicketMessage.kind == MessageKind.STAFF,
        ),
    )


def queue_query(queue: str, staff: Staff) -> Select[tuple[Ticket]]:
    """The four queues staff know, plus "done by me" (tickets I answered or held, passed on)."""
    stmt = select(Ticket).where(Ticket.merged_into_id.is_(None))
    if queue == "awaiting":
        return stmt.where(Ticket.status.in_(AWAITING_STAFF))
    if queue == "mine":
        return stmt.where(
            Ticket.assigned_staff_id == staff.id, Ticket.status != TicketStatus.CLOSED
        )
    if queue == "department":
        department_ids = [d.id for d in staff.departments]
        return stmt.where(
            Ticket.department_id.in_(department_ids), Ticket.status != TicketStatus.CLOSED
        )
    if queue == "done_by_me":
        return stmt.where(_done_by(staff.id))
    return stmt


def filter_query(stmt: Select[tuple[Ticket]], args: Mapping[str, str]) -> Select[tuple[Ticket]]:
    """Search by number or reference, client name, INN, e-mail or subject; filters by status,
    department, priority, assignee, tag and client."""
    query = (args.get("q") or "").strip()
    bare = query.lstrip("#").upper()
    if strict_int(bare, maximum=10**12) is not None:
        # A number is a ticket id or the start of an INN, never a fragment of a name.
        by_inn = select(Client.id).where(Client.inn.startswith(bare)) if len(bare) >= 4 else None
        conditions = [Ticket.reference == bare]
        if (ticket_id := db_id(bare)) is not None:
            conditions.append(Ticket.id == ticket_id)
        if by_inn is not None:
            conditions.append(Ticket.client_id.in_(by_inn))
        stmt = stmt.where(or_(*conditions))
    elif query:
        # the shared admin search (docs/development.md, "Search"); a refused text finds nothing
        text = search.parse(query)
        if text.problem:
            return stmt.where(false())
        contact_clients = select(Contact.client_id).where(search.contains(Contact.email, text.text))
        stmt = stmt.where(
            or_(
                Ticket.reference == bare,
                search.contains(Ticket.subject, text.text),
                search.contains(Ticket.guest_email, text.text),
                Ticket.client_id.in_(search.client_ids(text)),
                Ticket.client_id.in_(contact_clients),
            )
        )
    if args.get("status") in {s.value for s in TicketStatus}:
        stmt = stmt.where(Ticket.status == TicketStatus(args["status"]))
    if args.get("priority") in {p.value for p in TicketPriority}:
        stmt = stmt.where(Ticket.priority == TicketPriority(args["priority"]))
    for key, column in (
        ("department", Ticket.department_id),
        ("staff", Ticket.assigned_staff_id),
        ("client", Ticket.client_id),
    ):
        if (row_id := db_id(args.get(key))) is not None:
            stmt = stmt.where(column == row_id)
    if args.get("tag"):
        stmt = stmt.where(
            exists().where(TicketTag.ticket_id == Ticket.id, TicketTag.name == args["tag"].lower())
        )
    return stmt


def awaiting_reply_count() -> int:
    """The dashboard counter: the ``tickets_awaiting`` row of ``dashboard_count``, kept by a
    trigger on ``ticket`` (migration 0036; docs/development.md, "Dashboard figures")."""
    from portal.platform.models import DashboardCount

    return (
        db.session.scalar(
            select(func.sum(DashboardCount.value)).where(
                DashboardCount.counter == "tickets_awaiting"
            )
        )
        or 0
    )


def _refuse_client_action(ticket: Ticket) -> None:
    """The client side never writes into, closes or rates a staff-only ticket (closing a
    provisioning ticket completes the command: that takes a staff member)."""
    if ticket.staff_only:
        raise TicketError(_("This ticket is handled by our staff."), "body")


def client_messages(ticket: Ticket) -> list[TicketMessage]:
    """The conversation as the client sees it: never the internal notes."""
    return [message for message in ticket.messages if message.kind != MessageKind.NOTE]


def client_tickets(client_id: int) -> Page:
    """A page of the client's tickets, last replied first (the client card's Tickets tab; a
    keyset page read from ``ix_ticket_client_last_reply``, docs/performance.md)."""
    return keyset_page(
        select(Ticket)
        .where(Ticket.client_id == client_id)
        .options(selectinload(Ticket.department), selectinload(Ticket.assigned_staff)),
        sort=Ticket.last_reply_at,
        id_column=Ticket.id,
    )


def client_open_tickets(client_id: int, limit: int) -> tuple[list[Ticket], int]:
    """The client's open tickets as the client area shows them (not closed, not merged, not
    staff-only), last replied first, at most ``limit``, and how many there are (the dashboard)."""
    where = (
        Ticket.client_id == client_id,
        Ticket.visibility == TicketVisibility.CLIENT,
        Ticket.merged_into_id.is_(None),
        Ticket.status != TicketStatus.CLOSED,
    )
    rows = db.session.scalars(
        select(Ticket)
        .where(*where)
        .order_by(Ticket.last_reply_at.desc())
        .limit(limit)
        .options(lazyload(Ticket.tag_rows))  # the client area shows no tags
    ).all()
    count = db.session.scalar(select(func.count(Ticket.id)).where(*where)) or 0
    return list(rows), count
