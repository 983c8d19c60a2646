"""Mail in: what a message sent to a support address does to the tickets.

* Machine mail (bounces, auto-replies, ``Auto-Submitted``, ``Precedence: bulk``), our own mail
  coming back (a Message-ID we issued, a From that is one of our addresses) and a message seen
  before (an MTA retry, a repeated IMAP poll) are ignored, so no loop ever starts.
* A reply is recognised by the ticket reference in the subject, or by In-Reply-To/References
  pointing at a message of the ticket, and is added to it when it comes from someone the ticket
  belongs to (the client, a contact, the guest, a CC'd address); a closed ticket reopens.
* Anything else opens a ticket in the department whose address received it, for the client or
  contact with the sender's e-mail; an unknown sender opens a guest ticket, or is rejected when
  the department says so (silently: answering would make backscatter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts.models.account import normalise_email
from portal.accounts.models.client import Client, ClientStatus
from portal.accounts.models.contact import Contact
from portal.accounts.models.department import Department
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.messaging import imap
from portal.messaging.models.outbox import OutboundMessage
from portal.support import attachments, tickets
from portal.support.inbound_mail import InboundMail, parse_message
from portal.support.models.ticket import MessageSource, Ticket, TicketMailId
from portal.support.notifications import support_settings


@dataclass(frozen=True)
class IntakeResult:
    #: "opened", "replied", "ignored", "duplicate" or "rejected".
    action: str
    ticket: Ticket | None = None
    reason: str = ""

    def __str__(self) -> str:
        ref = f" #{self.ticket.reference}" if self.ticket is not None else ""
        why = f" ({self.reason})" if self.reason else ""
        return f"{self.action}{ref}{why}"


def _departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.id)))


def _sender(address: str) -> tuple[Client | None, Contact | None]:
    address = normalise_email(address)
    client = db.session.scalar(select(Client).where(Client.email == address))
    if client is not None and client.status != ClientStatus.CLOSED:
        return client, None
    contact = db.session.scalar(
        select(Contact)
        .join(Client, Client.id == Contact.client_id)
        .where(
            func.lower(Contact.email) == address,
            Contact.is_active.is_(True),
            Client.status != ClientStatus.CLOSED,
        )
        .order_by(Contact.id)
    )
    if contact is not None:
        return db.session.get(Client, contact.client_id), contact
    return None, None


def _ticket_for(mail: InboundMail) -> Ticket | None:
    reference = tickets.reference_in(mail.subject)
    if reference:
        ticket = tickets.by_reference(reference)
        if ticket is not None:
            return ticket
    thread = [*reversed(mail.in_reply_to), *reversed(mail.references)]
    if thread:
        ticket_id = db.session.scalar(
            select(TicketMailId.ticket_id).where(TicketMailId.message_id.in_(thread)).limit(1)
        )
        if ticket_id is not None:
            ticket = db.session.get(Ticket, ticket_id)
            return tickets.by_reference(ticket.reference) if ticket is not None else None
    return None


def _belongs(ticket: Ticket, address: str, client: Client | None) -> bool:
    """May this sender write into the ticket? Its client and their contacts, the guest who
    opened it and anyone on its CC list. Nobody writes into a staff-only ticket by mail: such
    a letter opens a ticket of its own."""
    if ticket.staff_only:
        return False
    if ticket.client_id is not None and client is not None and client.id == ticket.client_id:
        return True
    return address in {ticket.guest_email.lower(), *(a.lower() for a in ticket.cc or [])} - {""}


def _route(mail: InboundMail, departments: list[Department]) -> Department | None:
    by_address = {d.email.lower(): d for d in departments if d.email}
    for address in mail.recipients:
        if address in by_address:
            return by_address[address]
    visible = [d for d in departments if not d.hidden]
    return (visible or departments or [None])[0]


def receive(raw: bytes, now: datetime | None = None) -> IntakeResult:
    """Handle one raw message (``portal mail pipe``, the IMAP poller); commits what it does."""
    now = now or clock().now()
    mail = parse_message(raw)
    if mail.automatic:
        return IntakeResult("ignored", reason=mail.automatic)
    if not mail.from_addr:
        return IntakeResult("ignored", reason="no sender")
    departments = _departments()
    ours = {d.email.lower() for d in departments if d.email}
    ours.add(current_app.config["PORTAL"]["mail_from"].lower())
    if mail.from_addr in ours:
        return IntakeResult("ignored", reason="loop: sent from our own address")
    if db.session.scalar(
        select(OutboundMessage.id).where(OutboundMessage.message_id == mail.message_id)
    ):
        return IntakeResult("ignored", reason="loop: our own message")
    if db.session.get(TicketMailId, mail.message_id) is not None:
        return IntakeResult("duplicate", reason=mail.message_id)

    client, contact = _sender(mail.from_addr)
    uploads = [attachments.Upload(a.filename, a.data) for a in mail.attachments]
    accepted, refused = attachments.partition(uploads)
    body = mail.text or ("" if accepted else _("(no text)"))
    # The person who wrote, as we know them: the contact, else the client's person (a From name
    # is often the company's mailbox name), else what the letter says.
    known = contact.full_name if contact else (client.person_name if client else "")
    author = known or mail.from_name or mail.from_addr

    ticket = _ticket_for(mail)
    if ticket is not None and _belongs(ticket, mail.from_addr, client):
        tickets.client_reply(
            ticket,
            body=body,
            body_html=mail.html,
            author_name=author,
            author_email=mail.from_addr,
            uploads=accepted,
            refused_uploads=refused,
            source=MessageSource.EMAIL,
            email_message_id=mail.message_id,
            now=now,
        )
        return IntakeResult("replied", ticket)

    department = _route(mail, departments)
    if (
        client is None
        and department is not None
        and not support_settings(department.id).accept_guests
    ):
        return IntakeResult("rejected", reason=f"unknown sender {mail.from_addr}")
    others = [
        address
        for address in [*mail.to, *mail.cc]
        if address not in ours and address != mail.from_addr
    ]
    ticket = tickets.open_ticket(
        subject=mail.subject or _("(no subject)"),
        body=body,
        body_html=mail.html,
        department_id=department.id if department is not None else None,
        client=client,
        contact=contact,
        guest_email="" if client else mail.from_addr,
        guest_name="" if client else mail.from_name,
        cc=others,
        uploads=accepted,
        refused_uploads=refused,
        source=MessageSource.EMAIL,
        email_message_id=mail.message_id,
        now=now,
    )
    return IntakeResult("opened", ticket)


def poll_mailbox(limit: int = 100) -> imap.PollReport:
    """Fetch unseen messages from the IMAP mailbox in the settings and take them in."""
    cfg = current_app.config["PORTAL"]
    if not cfg["imap_host"]:
        raise imap.ImapError("imap_host is not set")

    def handle(raw: bytes) -> str:
        try:
            return str(receive(raw))
        except Exception:
            db.session.rollback()
            raise

    return imap.poll_imap(
        handle,
        host=cfg["imap_host"],
        port=cfg["imap_port"],
        user=cfg["imap_user"],
        password=cfg["imap_password"],
        use_ssl=cfg["imap_ssl"],
        folder=cfg["imap_folder"],
        limit=limit,
    )
