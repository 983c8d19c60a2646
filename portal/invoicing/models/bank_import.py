"""Bank statements uploaded by staff, and the payment orders that could not be matched.

An uploaded file is kept (bytes and sha256) between the preview and the confirmation, and
afterwards for audit; the same file uploaded twice is one row. A payment order that matched no
invoice waits in the "unmatched payments" queue, one row per payment order reference (unique),
until staff link it to invoices, leave it as the client's credit, or dismiss it with a reason.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.column_types import MoneyType
from portal.core.model_base import Base, TimestampMixin, UTCDateTime, enum_column


class BankStatementFile(TimestampMixin, Base):
    """A statement file as uploaded; confirmed once staff have seen its preview."""

    __tablename__ = "bank_statement_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    parser: Mapped[str] = mapped_column(String(50), default="")
    account: Mapped[str] = mapped_column(String(34), default="")
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    entries: Mapped[int] = mapped_column(default=0)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )


class UnmatchedStatus(enum.StrEnum):
    OPEN = "open"
    LINKED = "linked"
    CREDITED = "credited"
    DISMISSED = "dismissed"


UNMATCHED_STATUS_LABELS = {
    UnmatchedStatus.OPEN: _l("To link"),
    UnmatchedStatus.LINKED: _l("Linked to invoices"),
    UnmatchedStatus.CREDITED: _l("Left as credit"),
    UnmatchedStatus.DISMISSED: _l("Dismissed"),
}


class UnmatchedPayment(TimestampMixin, Base):
    """An incoming payment order that matched no invoice, as the statement reported it."""

    __tablename__ = "unmatched_payment"
    __table_args__ = (
        # Keyset pages (migration 0033, docs/performance.md): the queue by statement day.
        Index("ix_unmatched_payment_day_id", "day", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("bank_statement_file.id", ondelete="SET NULL"), index=True
    )
    #: The payment order's reference (``StatementEntry.reference``): one row per order.
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    number: Mapped[str] = mapped_column(String(40), default="")
    day: Mapped[date] = mapped_column(Date)
    received: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(MoneyType())
    payer: Mapped[str] = mapped_column(String(255), default="")
    payer_inn: Mapped[str] = mapped_column(String(12), default="", index=True)
    payer_account: Mapped[str] = mapped_column(String(34), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    #: Why the import could not match it.
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[UnmatchedStatus] = mapped_column(
        enum_column(UnmatchedStatus), default=UnmatchedStatus.OPEN, index=True
    )
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    dismiss_reason: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
