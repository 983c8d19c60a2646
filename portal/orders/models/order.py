"""Orders, promo codes and their uses, add-ons held by services, and changes of services.

An order is what a client (or staff for a client) asked for: new products, or a change of a
service (upgrade/downgrade). Accepting a new order creates the services and the first invoice; a
change waits for its invoice to be paid (a downgrade with credit applies at once). Prices are
copied into the order when it is placed, so the client pays what the checkout page showed.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.column_types import MoneyType
from portal.core.model_base import Base, TimestampMixin, UTCDateTime, enum_column
from portal.orders.models.service import ServiceStatus

if TYPE_CHECKING:
    from portal.accounts.models.client import Client
    from portal.catalog.models.catalog import Addon, Product


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    FRAUD = "fraud"


class OrderKind(enum.StrEnum):
    NEW = "new"
    CHANGE = "change"
    ADDON = "addon"


class OrderSource(enum.StrEnum):
    CLIENT_AREA = "client_area"
    STAFF = "staff"


class PromoCodeKind(enum.StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class PromoCode(TimestampMixin, Base):
    """A promo code as staff set it up; ``portal.billing.PromoCode`` judges each redemption.

    Empty ``product_ids``/``cycles`` mean every product/cycle.
    """

    __tablename__ = "promo_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    kind: Mapped[PromoCodeKind] = mapped_column(enum_column(PromoCodeKind))
    #: A percentage (5 is 5 %) or, for a fixed code, an amount in ``currency``.
    value: Mapped[Decimal] = mapped_column(MoneyType())
    description: Mapped[str] = mapped_column(String(255), default="")
    currency: Mapped[str | None] = mapped_column(String(3))
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    cycles: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: False: the first invoice of a service only; True: every renewal too.
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    once_per_client: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Order(TimestampMixin, Base):
    __tablename__ = "sales_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    kind: Mapped[OrderKind] = mapped_column(enum_column(OrderKind), default=OrderKind.NEW)
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus), default=OrderStatus.PENDING, index=True
    )
    source: Mapped[OrderSource] = mapped_column(
        enum_column(OrderSource), default=OrderSource.CLIENT_AREA
    )
    currency: Mapped[str] = mapped_column(String(3))
    promo_code_id: Mapped[int | None] = mapped_column(ForeignKey("promo_code.id"))
    #: The first invoice (new orders) or the change's invoice.
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="SET NULL"), index=True
    )
    #: Who placed it for the client, when staff did.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    skip_email: Mapped[bool] = mapped_column(Boolean, default=False)
    generate_invoice: Mapped[bool] = mapped_column(Boolean, default=True)
    #: What the checkout showed: the first invoice's totals at the time of ordering.
    subtotal: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    ip: Mapped[str] = mapped_column(String(45), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    admin_notes: Mapped[str] = mapped_column(Text, default="")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[Client] = relationship()
    promo_code: Mapped[PromoCode | None] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        cascade="all, delete-orphan", order_by="OrderItem.position"
    )


class OrderItem(Base):
    """One product of an order as configured, priced when the order was placed."""

    __tablename__ = "sales_order_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("sales_order.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    #: The service it created (new orders) or changes (change orders).
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("service.id", ondelete="SET NULL"), index=True
    )
    cycle: Mapped[str] = mapped_column(String(20))
    #: ``{"<option id>": quantity or choice id}``.
    options: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    addon_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Price of one period of ``cycle`` (options included, before a first-invoice promo).
    price: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    setup_fee: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    #: Staff's price for the service; replaces ``price`` when set.
    price_override: Mapped[Decimal | None] = mapped_column(MoneyType())

    product: Mapped[Product] = relationship()

    def option_values(self) -> dict[int, int]:
        return {int(key): int(value) for key, value in (self.options or {}).items()}


class PromoUse(TimestampMixin, Base):
    """A promo code redeemed by an order; counted per order against ``max_uses`` and
    once-per-client. Accepting the order links a row to each service it discounted."""

    __tablename__ = "promo_use"
    __table_args__ = (UniqueConstraint("promo_code_id", "order_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    promo_code_id: Mapped[int] = mapped_column(ForeignKey("promo_code.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("sales_order.id", ondelete="CASCADE"), index=True
    )
    #: The service whose renewals a recurring code keeps discounting.
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("service.id", ondelete="SET NULL"), index=True
    )


class ServiceAddon(TimestampMixin, Base):
    """An add-on a service holds; billed co-termed with the service."""

    __tablename__ = "service_addon"
    __table_args__ = (UniqueConstraint("service_id", "addon_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    addon_id: Mapped[int] = mapped_column(ForeignKey("addon.id"))
    status: Mapped[ServiceStatus] = mapped_column(
        enum_column(ServiceStatus), default=ServiceStatus.ACTIVE
    )
    recurring_amount: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))
    registration_date: Mapped[date] = mapped_column(Date)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_order.id", ondelete="SET NULL"), index=True
    )

    addon: Mapped[Addon] = relationship()


class ChangeStatus(enum.StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    CANCELLED = "cancelled"


class ServiceChange(TimestampMixin, Base):
    """An upgrade or downgrade of a service and the quote the client confirmed.

    It applies when its invoice is paid, or at once when nothing is due (a downgrade's credit
    goes to the balance). The figures are ``portal.billing.ChangeQuote``'s, kept for the record.
    """

    __tablename__ = "service_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("sales_order.id", ondelete="CASCADE"), index=True
    )
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[ChangeStatus] = mapped_column(
        enum_column(ChangeStatus), default=ChangeStatus.PENDING
    )
    change_date: Mapped[date] = mapped_column(Date)
    old_product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    new_product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    old_cycle: Mapped[str] = mapped_column(String(20))
    new_cycle: Mapped[str] = mapped_column(String(20))
    old_options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    new_options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    old_price: Mapped[Decimal] = mapped_column(MoneyType())
    new_price: Mapped[Decimal] = mapped_column(MoneyType())
    new_price_override: Mapped[Decimal | None] = mapped_column(MoneyType())
    day_count: Mapped[str] = mapped_column(String(10))
    days_used: Mapped[int] = mapped_column(Integer)
    days_remaining: Mapped[int] = mapped_column(Integer)
    days_total: Mapped[int] = mapped_column(Integer)
    credit: Mapped[Decimal] = mapped_column(MoneyType())
    charge: Mapped[Decimal] = mapped_column(MoneyType())
    difference: Mapped[Decimal] = mapped_column(MoneyType())
    #: The difference with tax: due now when positive, credited when negative.
    total: Mapped[Decimal] = mapped_column(MoneyType())
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    next_due: Mapped[date | None] = mapped_column(Date)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    old_product: Mapped[Product] = relationship(foreign_keys=[old_product_id])
    new_product: Mapped[Product] = relationship(foreign_keys=[new_product_id])
