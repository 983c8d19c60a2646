"""Support tickets: the conversation between a client (or a guest e-mail) and staff.

A ticket has an integer id for staff and a random public ``reference`` for everybody else: the
reference goes into e-mail subjects and links, so it must not be guessable from another client's
ticket. Messages are from the client, from staff, or internal notes that only staff ever see.
Attachment files live outside the web root (``services.attachments``); rows only describe them.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.model_base import (
    Base,
    TimestampMixin,
    UTCDateTime,
    enum_column,
    trigram_index,
)

if TYPE_CHECKING:
    from portal.accounts.models.client import Client
    from portal.accounts.models.contact import Contact
    from portal.accounts.models.department import Department
    from portal.accounts.models.staff import Staff


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CUSTOMER_REPLY = "customer_reply"
    ON_HOLD = "on_hold"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


#: Statuses in which the client waits for staff: the "awaiting reply" queue and its counter.
AWAITING_STAFF = (TicketStatus.OPEN, TicketStatus.CUSTOMER_REPLY)
#: ``AWAITING_STAFF`` among unmerged tickets, as the WHERE clause of the partial index
#: ``ix_ticket_awaiting`` the dashboard counter reads (migration 0031).
AWAITING_SQL = "status IN ('open', 'customer_reply') AND merged_into_id IS NULL"


class TicketPriority(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


#: Names staff and clients see (pages and e-mails), as staff in Russia call them.
STATUS_LABELS: dict[TicketStatus, Any] = {
    TicketStatus.OPEN: _l("Open"),
    TicketStatus.ANSWERED: _l("Answered"),
    TicketStatus.CUSTOMER_REPLY: _l("Customer reply"),
    TicketStatus.ON_HOLD: _l("On hold"),
    TicketStatus.IN_PROGRESS: _l("In progress"),
    TicketStatus.CLOSED: _l("Closed"),
}
PRIORITY_LABELS: dict[TicketPriority, Any] = {
    TicketPriority.LOW: _l("Low"),
    TicketPriority.MEDIUM: _l("Medium"),
    TicketPriority.HIGH: _l("High"),
    TicketPriority.URGENT: _l("Urgent"),
}


class MessageKind(enum.StrEnum):
    CLIENT = "client"
    STAFF = "staff"
    #: Internal note: staff talk to each other here; never shown or mailed to the client.
    NOTE = "note"


class TicketVisibility(enum.StrEnum):
    """Who sees a ticket. Staff-only tickets (an internal request, a provisioning task a
    plugin files for the admins) are never listed, answered or closed in the client area and
    never mailed to the client: their text is meant for staff, and closing one may complete
    a provisioning command."""

    CLIENT = "client"
    STAFF = "staff"


class MessageSource(enum.StrEnum):
    WEB = "web"
    EMAIL = "email"
    SYSTEM = "system"


class Ticket(TimestampMixin, Base):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_status_department", "status", "department_id"),
        Index("ix_ticket_guest_email", "guest_email"),
        # Keyset pages (migration 0033, docs/performance.md): the ticket queues by last reply.
        Index("ix_ticket_last_reply_id", "last_reply_at", "id"),
        # The client card's Tickets tab (migration 0039).
        Index("ix_ticket_client_last_reply", "client_id", "last_reply_at", "id"),
        # Reports (migration 0028): the support report reads the tickets opened in a period.
        Index("ix_ticket_created_at", "created_at"),
        Index(
            "ix_ticket_awaiting",
            "status",
            postgresql_where=text(AWAITING_SQL),
            sqlite_where=text(AWAITING_SQL),
        ),
        # The awaiting queue in its keyset order, response due first and none last (migration
        # 0039, portal.web.paging.nulls_last): a page is read from the index instead of sorting
        # every awaiting ticket.
        Index(
            "ix_ticket_awaiting_due_order",
            text("coalesce(response_due_at, '9999-12-31 00:00:00+00')"),
            "id",
            postgresql_where=text(AWAITING_SQL),
            sqlite_where=text(AWAITING_SQL),
        ),
        # The ticket list's search by part of the subject (migration 0034).
        trigram_index("ix_ticket_search_subject", "subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public, random reference ("K7QM4ZP2"), shown as "#K7QM4ZP2" and put in mail subjects.
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("client.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    #: Set for tickets from unknown senders (no client account).
    guest_email: Mapped[str] = mapped_column(String(254), default="")
    guest_name: Mapped[str] = mapped_column(String(200), default="")
    #: The related service; a plain id until the services area arrives with its table.
    service_id: Mapped[int | None] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"), index=True
    )
    priority: Mapped[TicketPriority] = mapped_column(
        enum_column(TicketPriority), default=TicketPriority.MEDIUM
    )
    status: Mapped[TicketStatus] = mapped_column(
        enum_column(TicketStatus), default=TicketStatus.OPEN
    )
    visibility: Mapped[TicketVisibility] = mapped_column(
        enum_column(TicketVisibility),
        default=TicketVisibility.CLIENT,
        server_default=TicketVisibility.CLIENT.value,
    )
    assigned_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    opened_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL")
    )
    subject: Mapped[str] = mapped_column(String(255))
    #: Extra addresses copied on every e-mail about the ticket.
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)

    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_reply_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_staff_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: SLA targets computed when the ticket opens (``services.sla``).
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When staff must answer next: set while the client waits, cleared by a staff reply.
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))

    feedback_score: Mapped[int | None] = mapped_column(Integer)
    feedback_comment: Mapped[str] = mapped_column(Text, default="")
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[Client | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    department: Mapped[Department | None] = relationship()
    assigned_staff: Mapped[Staff | None] = relationship(foreign_keys=[assigned_staff_id])
    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan"
    )
    tag_rows: Mapped[list[TicketTag]] = relationship(
        cascade="all, delete-orphan", order_by="TicketTag.name", lazy="selectin"
    )

    @property
    def tags(self) -> list[str]:
        return [row.name for row in self.tag_rows]

    @property
    def requester_email(self) -> str:
        if self.contact is not None:
            return self.contact.email
        if self.client is not None:
            return self.client.email
        return self.guest_email

    @property
    def requester_name(self) -> str:
        if self.contact is not None:
            return self.contact.full_name
        if self.client is not None:
            return self.client.display_name
        return self.guest_name or self.guest_email

    @property
    def greeting_name(self) -> str:
        """Whom the ticket's letters greet: the contact who wrote, else the client's person
        (never the company when a person is known), else the guest."""
        if self.contact is not None:
            return self.contact.full_name or self.contact.email
        if self.client is not None:
            return self.client.person_name
        return self.guest_name or self.guest_email

    @property
    def staff_only(self) -> bool:
        return self.visibility is TicketVisibility.STAFF

    @property
    def is_closed(self) -> bool:
        return self.status == TicketStatus.CLOSED

    def __repr__(self) -> str:
        return f"<Ticket {self.id} #{self.reference}>"


class TicketTag(Base):
    __tablename__ = "ticket_tag"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)


class TicketMessage(Base):
    __tablename__ = "ticket_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind))
    source: Mapped[MessageSource] = mapped_column(
        enum_column(MessageSource), default=MessageSource.WEB
    )
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    #: Who wrote it, as they were called then (a guest has no account to look up).
    author_name: Mapped[str] = mapped_column(String(200), default="")
    author_email: Mapped[str] = mapped_column(String(254), default="")
    #: Plain text, always present (HTML mail is also turned into text for search and quoting).
    body: Mapped[str] = mapped_column(Text, default="")
    #: Sanitised HTML of an HTML e-mail (nh3), or None.
    body_html: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    staff: Mapped[Staff | None] = relationship()
    attachments: Mapped[list[TicketAttachment]] = relationship(
        back_populates="message", order_by="TicketAttachment.id"
    )

    @property
    def is_note(self) -> bool:
        return self.kind == MessageKind.NOTE


class TicketAttachment(Base):
    __tablename__ = "ticket_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("ticket_message.id", ondelete="CASCADE"), index=True
    )
    #: Sanitised name shown and offered for download; the file is stored under ``storage_key``.
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    message: Mapped[TicketMessage] = relationship(back_populates="attachments")


class TicketMailId(Base):
    """Every e-mail Message-ID that belongs to a ticket, inbound or outbound.

    Replies are threaded by their In-Reply-To/References headers through this table, and a
    message delivered twice (an MTA retry, an IMAP poll interrupted) is recognised and dropped.
    """

    __tablename__ = "ticket_mail_id"

    message_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    inbound: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketAssignment(Base):
    """Assignment history: who held the ticket when. "Done by me" reads it, so that a ticket I
    handled and passed on stays in my list."""

    __tablename__ = "ticket_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    staff: Mapped[Staff | None] = relationship(foreign_keys=[staff_id])
    department: Mapped[Department | None] = relationship()
    assigned_by: Mapped[Staff | None] = relationship(foreign_keys=[assigned_by_id])
