"""Services: what a client has bought and is billed for, one per product per client.

A client never holds the same product twice: buying more is an upgrade of the service (its
options' quantities), so every line of the client ends on the same date.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.column_types import MoneyType
from portal.core.model_base import Base, TimestampMixin, UTCDateTime, enum_column

if TYPE_CHECKING:
    from portal.accounts.models.client import Client
    from portal.catalog.models.catalog import ConfigOption, Product


class ServiceStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    CANCELLED = "cancelled"


#: What staff and clients see for each status (the client card shows them too).
SERVICE_STATUS_LABELS = {
    ServiceStatus.PENDING: _l("Pending"),
    ServiceStatus.ACTIVE: _l("Active"),
    ServiceStatus.SUSPENDED: _l("Suspended"),
    ServiceStatus.TERMINATED: _l("Terminated"),
    ServiceStatus.CANCELLED: _l("Cancelled"),
}


class Service(TimestampMixin, Base):
    __tablename__ = "service"
    __table_args__ = (
        UniqueConstraint("client_id", "product_id"),
        # Reports (migration 0028): renewals and the forecast read the renewing services by
        # their next due date.
        Index("ix_service_status_next_due_date", "status", "next_due_date"),
        # The services of a product in a status (migration 0036): the 1C header counter.
        Index("ix_service_product_status", "product_id", "status"),
        # The services list's keyset order, next due first and none last (migration 0039,
        # portal.web.paging.nulls_last).
        Index("ix_service_due_order", text("coalesce(next_due_date, '9999-12-31')"), "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    status: Mapped[ServiceStatus] = mapped_column(
        enum_column(ServiceStatus), default=ServiceStatus.PENDING
    )
    cycle: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    registration_date: Mapped[date] = mapped_column(Date)
    #: Start of the current period; with ``next_due_date`` it is the period being billed.
    period_start: Mapped[date | None] = mapped_column(Date)
    next_due_date: Mapped[date | None] = mapped_column(Date, index=True)
    #: Day of month renewals keep (31 Jan -> 28 Feb -> 31 Mar).
    anchor_day: Mapped[int | None] = mapped_column(Integer)
    recurring_amount: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    #: Staff's price for this service; replaces the computed amount when set.
    price_override: Mapped[Decimal | None] = mapped_column(MoneyType())
    username: Mapped[str] = mapped_column(String(100), default="")
    admin_notes: Mapped[str] = mapped_column(Text, default="")
    no_suspend_until: Mapped[date | None] = mapped_column(Date)
    terminate_at_period_end: Mapped[bool] = mapped_column(default=False)
    termination_reason: Mapped[str] = mapped_column(Text, default="")
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: "overdue" (automation; lifted when paid) or what staff wrote when suspending by hand.
    suspension_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: "" or "failed": the last module command failed after its retries (see the task's error).
    provisioning_status: Mapped[str] = mapped_column(String(20), default="", server_default="")
    provisioning_error: Mapped[str] = mapped_column(Text, default="", server_default="")

    client: Mapped[Client] = relationship()
    product: Mapped[Product] = relationship()
    options: Mapped[list[ServiceOption]] = relationship(cascade="all, delete-orphan")

    @property
    def renewal_price(self) -> Decimal:
        """The price a renewal starts from: staff's override when set, else the computed
        recurring amount (as the billing run prices it from its rows; the dashboard shows it)."""
        return self.price_override if self.price_override is not None else self.recurring_amount


class ServiceOption(Base):
    """The quantity or the choice a service holds of one configurable option."""

    __tablename__ = "service_option"
    __table_args__ = (UniqueConstraint("service_id", "option_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(ForeignKey("config_option.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    choice_id: Mapped[int | None] = mapped_column(ForeignKey("config_option_choice.id"))

    option: Mapped[ConfigOption] = relationship()
