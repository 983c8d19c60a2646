"""The e-mail outbox: every message the portal sends is a row here first.

A message is queued in the same transaction as the change it reports (a ticket reply, an issued
invoice), so a rolled-back change sends nothing and a committed one is never forgotten. A sender
(``portal.messaging.outbox.deliver_outbox``) delivers due rows over SMTP and retries with
exponential backoff: a dead SMTP server delays mail, it never loses it. ``dedupe_key`` makes a
message exactly-once for callers that may run twice (reminders, scheduled jobs).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.model_base import Base, TimestampMixin, UTCDateTime, enum_column


class OutboundStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    #: Gave up at the give-up time; staff may send it again (E-mail queue, `portal mail retry`).
    FAILED = "failed"


class OutboundMessage(TimestampMixin, Base):
    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_message_due", "status", "next_attempt_at"),
        # The client card's E-mails tab, newest first in keyset pages (migration 0039).
        Index("ix_outbound_message_client_id_id", "client_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_addr: Mapped[str] = mapped_column(String(320))
    to_addrs: Mapped[list[str]] = mapped_column(JSON, default=list)
    cc_addrs: Mapped[list[str]] = mapped_column(JSON, default=list)
    reply_to: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    #: Extra headers (In-Reply-To, References, Auto-Submitted, ...).
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: Chosen when queued, so threading and loop detection know it before it is sent.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: The client it was sent to, for the client card's E-mails tab.
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("client.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[OutboundStatus] = mapped_column(
        enum_column(OutboundStatus), default=OutboundStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the message is next due; while a sender holds it, the end of that sender's claim.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The sender holding the message ("host:pid") and the token of its claim: a sender sends
    #: only after renewing its claim in one conditional UPDATE on both (docs/automation.md).
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claim_token: Mapped[str | None] = mapped_column(String(32))
    #: The first failed attempt of the current round: the outbox gives up ``mail_give_up_hours``
    #: after it. Cleared when the message is sent or staff send it again.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: A caller's key for "this mail once" (e.g. "invoice-reminder:71475:first"); NULLs repeat.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    #: The mail template this message was written from, if any (``portal.messaging.templates``).
    template: Mapped[str | None] = mapped_column(String(64))
    #: A letter composed when it is delivered: the template's variables as row ids and the
    #: documents to attach, ``{"variables": {"invoice": 71475}, "attachments": [[filename,
    #: content type, invoice id]]}``. Recipients, subject, text and attachment rows are filled
    #: in then and this is cleared: a billing run queues 100 000 invoice mails rendering none.
    compose_args: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: The language the letter is written in ("ru", "en"), so staff reading it in another
    #: language see it marked as such; "" when unknown (letters queued before it was kept).
    language: Mapped[str] = mapped_column(String(10), default="", server_default="")

    attachments: Mapped[list[OutboundAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="OutboundAttachment.id"
    )

    @property
    def recipients(self) -> list[str]:
        return [*self.to_addrs, *self.cc_addrs]

    @property
    def composed(self) -> bool:
        """False while the letter waits to be composed at delivery (no subject or text yet)."""
        return self.compose_args is None


class OutboundAttachment(Base):
    """A small attachment kept in the database with its message (PDF invoices, logs)."""

    __tablename__ = "outbound_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbound_message.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    #: An invoice PDF rendered when the message is delivered; ``data`` stays empty until then.
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="CASCADE"), index=True
    )
