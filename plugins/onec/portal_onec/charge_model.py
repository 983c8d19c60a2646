"""The table of additional charges (доп. начисления): what was charged for a function used
beyond the tariff in a month, and where the charge stands."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.plugin_api import Base, Client, Invoice, MoneyType, Service, UTCDateTime


class Function(enum.StrEnum):
    """What a charge is for, and what is blocked when it is not paid."""

    SESSIONS = "sessions"
    BASES = "bases"


class ChargeState(enum.StrEnum):
    """``open`` until paid; ``blocked`` when unpaid after the days to pay (the function is
    blocked, the service stays active); ``paid`` (a blocked function is unblocked);
    ``refused`` by the client with a comment (the invoice cancelled, the function blocked, the
    charge out of the statistics)."""

    OPEN = "open"
    PAID = "paid"
    BLOCKED = "blocked"
    REFUSED = "refused"


class AdditionalCharge(Base):
    """One charge per service, function and month (the unique key: the daily job run twice,
    or by two workers, charges once). ``quantity`` is what was used above the tariff's limit
    (``measured`` − ``included``); the invoice is the core's, issued to the client."""

    __tablename__ = "onec_additional_charge"
    __table_args__ = (
        UniqueConstraint("service_id", "function", "period_start"),
        Index("ix_onec_additional_charge_state_due", "state", "due_date"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    function: Mapped[str] = mapped_column(String(20))
    #: The month charged: its first day and the first day of the next one (excluded).
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    included: Mapped[int] = mapped_column(Integer)
    measured: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(MoneyType())
    #: The invoice's total (tax included), in ``currency``.
    amount: Mapped[Decimal] = mapped_column(MoneyType())
    currency: Mapped[str] = mapped_column(String(3))
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(20), default=ChargeState.OPEN.value)
    due_date: Mapped[date] = mapped_column(Date)
    refusal_comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[Client] = relationship(Client)
    service: Mapped[Service] = relationship(Service)
    invoice: Mapped[Invoice | None] = relationship(Invoice)

    @property
    def charge_state(self) -> ChargeState:
        return ChargeState(self.state)

    @property
    def charge_function(self) -> Function:
        return Function(self.function)
