"""The unique keys that make automation exactly-once (DESIGN §5), and the billing run's progress.

Each row records that something was done once: a service's period was billed, a reminder was
sent for an invoice, a late fee was charged, a service was warned/suspended/terminated on a date.
The row is inserted in the same transaction as the work, and its unique constraint makes a second
run (or a second worker at the same time) add nothing.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.column_types import MoneyType
from portal.core.model_base import Base, UTCDateTime, enum_column


class BilledPeriod(Base):
    """A period of a service that has been put on an invoice; one row per (service, period)."""

    __tablename__ = "billed_period"
    __table_args__ = (UniqueConstraint("service_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="SET NULL"), index=True
    )
    billing_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_run.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BillingRunStatus(enum.StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class BillingRun(Base):
    """One billing run for an as-of date: what it found, what it did, how far it got.

    Several workers may share a run; they add to the counters with ``UPDATE ... SET n = n + k``.
    """

    __tablename__ = "billing_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[BillingRunStatus] = mapped_column(
        enum_column(BillingRunStatus), default=BillingRunStatus.RUNNING
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clients_total: Mapped[int] = mapped_column(Integer, default=0)
    clients_done: Mapped[int] = mapped_column(Integer, default=0)
    invoices: Mapped[int] = mapped_column(Integer, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: "scheduler", "cli", or the name of the staff member who started it.
    started_by: Mapped[str] = mapped_column(String(100), default="")


class ReminderKind(enum.StrEnum):
    BEFORE_DUE = "before_due"
    ON_DUE = "on_due"
    FIRST_OVERDUE = "first_overdue"
    SECOND_OVERDUE = "second_overdue"
    THIRD_OVERDUE = "third_overdue"


class InvoiceReminder(Base):
    """A payment reminder sent for an invoice; each kind once per invoice."""

    __tablename__ = "invoice_reminder"
    __table_args__ = (UniqueConstraint("invoice_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"))
    kind: Mapped[ReminderKind] = mapped_column(enum_column(ReminderKind))
    sent_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LateFee(Base):
    """The n-th late fee charged for an overdue invoice (n = 1 once, 1..k when repeating)."""

    __tablename__ = "late_fee"
    __table_args__ = (UniqueConstraint("invoice_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(MoneyType())
    #: The invoice the fee was charged on.
    fee_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="SET NULL"), index=True
    )
    charged_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OverdueActionKind(enum.StrEnum):
    SUSPENSION_WARNING = "suspension_warning"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    TERMINATE = "terminate"


class OverdueAction(Base):
    """What the overdue automation did to a service on a date: (service, action, date) once."""

    __tablename__ = "overdue_action"
    __table_args__ = (UniqueConstraint("service_id", "action", "action_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[OverdueActionKind] = mapped_column(enum_column(OverdueActionKind))
    action_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
