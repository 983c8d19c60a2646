"""Payments, their allocation to invoices, and the client's credit balance ledger.

Each payment carries the external reference of its method (the bank's payment order, the
gateway's transaction id) as people read it, and its normal form (``reference_key``,
portal/invoicing/payment_references.py); both are unique per method, so the same payment
arriving twice, or typed by staff and then imported, is recorded once. The credit balance is
the sum of the ledger, never a number edited in place.
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.column_types import MoneyType
from portal.core.model_base import Base, TimestampMixin, enum_column


class PaymentKind(enum.StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


class Payment(TimestampMixin, Base):
    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("method", "reference"),
        # Keyset pages (migration 0033, docs/performance.md): all payments and a client's, by date.
        Index("ix_payment_date_id", "payment_date", "id"),
        Index("ix_payment_client_date", "client_id", "payment_date", "id"),
        # An index, not a constraint: migration 0018 adds it without rebuilding the table.
        Index("uq_payment_method_reference_key", "method", "reference_key", unique=True),
        # Reports (migration 0028): money received in a currency over a period, by client.
        Index(
            "ix_payment_currency_date",
            "currency",
            "payment_date",
            postgresql_include=["client_id", "amount"],
        ),
        # The income report (migration 0029): payments or refunds of a currency over a period,
        # read from the index alone on PostgreSQL (by method, joined to allocations and notes).
        Index(
            "ix_payment_income",
            "currency",
            "kind",
            "payment_date",
            postgresql_include=["id", "method", "amount", "client_id", "credit_note_id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    kind: Mapped[PaymentKind] = mapped_column(enum_column(PaymentKind), default=PaymentKind.PAYMENT)
    method: Mapped[str] = mapped_column(String(50))
    reference: Mapped[str] = mapped_column(String(100))
    #: ``PaymentReference.key``: "701/2026-12-03/7712345700" for a payment order, the
    #: transaction id for a gateway; empty (NULL) for an order whose date is not known.
    reference_key: Mapped[str | None] = mapped_column(String(100))
    #: Indexed: the statement import looks for a hand entry of an order by its date.
    payment_date: Mapped[date] = mapped_column(Date, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    #: Positive for money received, negative for money paid back.
    amount: Mapped[Decimal] = mapped_column(MoneyType())
    description: Mapped[str] = mapped_column(Text, default="")
    #: What the gateway or bank kept of it (``amount`` is what the client paid); on a refund,
    #: negative when the fee was given back.
    fee: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0), server_default="0")
    #: How much of this payment has been given back (to credit or paid out).
    refunded: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    #: For a refund paid out under a credit note: that note.
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)

    allocations: Mapped[list[PaymentAllocation]] = relationship(cascade="all, delete-orphan")

    #: Not stored: whether the last ``record_payment`` call that returned this payment inserted
    #: it (True) or found it recorded already (by another worker, by hand: False).
    recorded_now = False


class PaymentAllocation(Base):
    """How much of a payment went to which invoice."""

    __tablename__ = "payment_allocation"
    __table_args__ = (
        # Covering (migration 0029): the income report joins a period's payments to their
        # allocations without reading the table; also the payment's own lookups (its prefix).
        Index("ix_payment_allocation_payment", "payment_id", "invoice_id", "amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MoneyType())


class CreditReason(enum.StrEnum):
    OVERPAYMENT = "overpayment"
    APPLIED = "applied"
    DOWNGRADE = "downgrade"
    REFUND = "refund"
    ADD_FUNDS = "add_funds"
    CORRECTION = "correction"
    MANUAL = "manual"
    USAGE = "usage"


#: Why the credit balance moved, as staff see it on the client card.
CREDIT_REASON_LABELS = {
    CreditReason.OVERPAYMENT: _l("Overpayment"),
    CreditReason.APPLIED: _l("Applied to an invoice"),
    CreditReason.DOWNGRADE: _l("Downgrade"),
    CreditReason.REFUND: _l("Refund"),
    CreditReason.ADD_FUNDS: _l("Add funds"),
    CreditReason.CORRECTION: _l("Correction"),
    CreditReason.MANUAL: _l("Manual adjustment"),
    CreditReason.USAGE: _l("Usage charge"),
}


class CreditEntry(TimestampMixin, Base):
    """One movement of the credit balance: positive adds credit, negative uses it."""

    __tablename__ = "credit_entry"
    __table_args__ = (
        # Keyset pages (migration 0033, docs/performance.md): a client's movements, newest first.
        Index("ix_credit_entry_client_id_id", "client_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(MoneyType())
    reason: Mapped[CreditReason] = mapped_column(enum_column(CreditReason))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")

    payment: Mapped[Payment | None] = relationship()
