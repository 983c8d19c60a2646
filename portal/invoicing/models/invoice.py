"""Invoices, their lines, and the gapless number counters.

A draft has no number and sends nothing; issuing takes the next number of its series from a
counter row locked in the same transaction (a unique constraint backs it up) and freezes the
client's details in ``buyer`` and the provider's in ``seller``. An issued invoice is never
edited: corrections are credit notes.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.column_types import MoneyType
from portal.core.model_base import (
    Base,
    TimestampMixin,
    UTCDateTime,
    enum_column,
    trigram_index,
)

if TYPE_CHECKING:
    from portal.invoicing.models.payment import CreditEntry


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    COLLECTIONS = "collections"
    #: A credit note (correction document): issued, never payable, never paid.
    ISSUED = "issued"


#: What staff and clients see for each status (the client card shows them too).
INVOICE_STATUS_LABELS = {
    InvoiceStatus.DRAFT: _l("Draft"),
    InvoiceStatus.UNPAID: _l("Unpaid"),
    InvoiceStatus.PARTIALLY_PAID: _l("Partially paid"),
    InvoiceStatus.PAID: _l("Paid"),
    InvoiceStatus.CANCELLED: _l("Cancelled"),
    InvoiceStatus.REFUNDED: _l("Refunded"),
    InvoiceStatus.COLLECTIONS: _l("Collections"),
    InvoiceStatus.ISSUED: _l("Issued"),
}


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    ADD_FUNDS = "add_funds"


class CreditNoteSettlement(enum.StrEnum):
    """What happened to the money a credit note takes off its invoice (staff choose)."""

    #: Left on the client's credit balance (a ``correction`` credit entry).
    CREDIT = "credit"
    #: Paid back to the client (a negative ``refund`` payment naming the note).
    REFUND = "refund"
    #: Taken off what the corrected invoice still owes (credit applied to it at once).
    INVOICE = "invoice"


CREDIT_NOTE_SETTLEMENT_LABELS = {
    CreditNoteSettlement.CREDIT: _l("Left on the credit balance"),
    CreditNoteSettlement.REFUND: _l("Refunded to the client"),
    CreditNoteSettlement.INVOICE: _l("Taken off what the invoice owes"),
}


#: The statuses of an invoice the client owes (``credit_terms.OWED``), as the WHERE clause of the
#: partial index the reports use.
OWED_SQL = "status IN ('unpaid', 'partially_paid', 'collections')"


#: The statuses of an overdue invoice once its due date has passed (the dashboard counter), and
#: the same as the WHERE clause of its partial index ``ix_invoice_overdue`` (migration 0031).
OVERDUE_STATUSES = (InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID)
OVERDUE_SQL = "status IN ('unpaid', 'partially_paid')"


class InvoiceCounter(Base):
    """The next number of a series (e.g. "2026"); incremented under a row lock when issuing."""

    __tablename__ = "invoice_counter"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)


class Invoice(TimestampMixin, Base):
    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("series", "sequence"),
        # Reports (migration 0028): the debtors report reads only what is owed, grouped by
        # client and currency; PostgreSQL answers it from this index alone.
        Index(
            "ix_invoice_owed",
            "client_id",
            "currency",
            postgresql_where=text(OWED_SQL),
            sqlite_where=text(OWED_SQL),
            postgresql_include=["kind", "issue_date", "due_date", "total", "amount_paid"],
        ),
        Index("ix_invoice_issue_date", "issue_date"),
        # Keyset pages (migration 0033, docs/performance.md): a client's invoices by issue date,
        # their acts by payment date, read 51 index entries deep in a list of thousands.
        Index("ix_invoice_client_issue", "client_id", "issue_date", "id"),
        Index("ix_invoice_client_paid", "client_id", "paid_date", "id"),
        # Dashboard counter (migration 0031): the overdue count reads only the open invoices
        # past due from this index, however many paid ones there are.
        Index(
            "ix_invoice_overdue",
            "due_date",
            postgresql_where=text(OVERDUE_SQL),
            sqlite_where=text(OVERDUE_SQL),
        ),
        # The invoice list's search by part of a number (migration 0034).
        trigram_index("ix_invoice_search_number", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    kind: Mapped[InvoiceKind] = mapped_column(enum_column(InvoiceKind), default=InvoiceKind.INVOICE)
    status: Mapped[InvoiceStatus] = mapped_column(
        enum_column(InvoiceStatus), default=InvoiceStatus.DRAFT, index=True
    )
    series: Mapped[str | None] = mapped_column(String(20))
    sequence: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    tax_date: Mapped[date | None] = mapped_column(Date)
    paid_date: Mapped[date | None] = mapped_column(Date)
    subtotal: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    discount: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    #: Money received against it (payments and credit applied, less refunds).
    amount_paid: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    #: The client's details as they were when issued (name, INN, KPP, address, bank).
    buyer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The provider's own details as they were when issued (name, INN, bank, signatories);
    #: None on drafts and on invoices issued before it was kept (documents print today's).
    seller: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: For a credit note: the invoice it corrects.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    #: For a credit note: what was done with its amount.
    settlement: Mapped[CreditNoteSettlement | None] = mapped_column(
        enum_column(CreditNoteSettlement)
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[InvoiceLine]] = relationship(
        cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )
    #: Credit balance movements naming this invoice (read only: payments.py writes them).
    credit_entries: Mapped[list[CreditEntry]] = relationship(viewonly=True)

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid

    @property
    def credit_applied(self) -> Decimal:
        """What the client's credit balance paid of it (the invoice e-mail shows it)."""
        spent = sum((e.amount for e in self.credit_entries if e.reason == "applied"), Decimal(0))
        return Decimal(0) - spent

    def is_overdue(self, today: date) -> bool:
        """Overdue is derived, never stored: unpaid (or partly) past the due date."""
        return (
            self.status in (InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID)
            and self.due_date is not None
            and self.due_date < today
        )


class InvoiceLine(Base):
    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoice.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20), default="charge")
    description: Mapped[str] = mapped_column(Text)
    details: Mapped[list[str]] = mapped_column(JSON, default=list)
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("service.id", ondelete="SET NULL"), index=True
    )
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(1))
    unit: Mapped[str] = mapped_column(String(30), default="")
    unit_price: Mapped[Decimal] = mapped_column(MoneyType())
    discount: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    amount: Mapped[Decimal] = mapped_column(MoneyType())
    tax_percent: Mapped[Decimal | None] = mapped_column(MoneyType())
    tax_inclusive: Mapped[bool] = mapped_column(default=False)
    net: Mapped[Decimal] = mapped_column(MoneyType())
    tax: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(MoneyType())
