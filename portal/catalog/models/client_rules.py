"""A client's own pricing rules: personal discounts and tax rules, each with a date window.

BILLmanager keeps both on the client: a personal discount takes priority over promotions, and a
client-specific tax rule (rate, date window, product types) wins over the general rates. The
engine decides with them (``portal.billing.resolve_discount`` and ``resolve_tax_rate``);
``portal.catalog.client_rules`` validates, stores and hands them to the engine.
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalog.models.catalog import Product
from portal.core.column_types import MoneyType
from portal.core.model_base import Base, TimestampMixin, enum_column

HUNDRED = Decimal(100)


class DiscountKind(enum.StrEnum):
    #: ``value`` is the percentage taken off (15 is 15 % off).
    PERCENT = "percent"
    #: ``value`` is the coefficient the price is multiplied by (0.8500 is 15 % off).
    COEFFICIENT = "coefficient"


class ClientDiscount(TimestampMixin, Base):
    """A personal discount of one client, for one product (``product_id``) or all (None),
    valid from ``valid_from`` to ``valid_to`` inclusive (None: open-ended)."""

    __tablename__ = "client_discount"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[DiscountKind] = mapped_column(enum_column(DiscountKind))
    value: Mapped[Decimal] = mapped_column(MoneyType())
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(255), default="")

    product: Mapped[Product | None] = relationship()

    @property
    def coefficient(self) -> Decimal:
        """What the price is multiplied by: a percentage (2 decimals at most) as a coefficient
        with 4 decimals, the form the engine takes."""
        if self.kind is DiscountKind.PERCENT:
            return (HUNDRED - self.value) / HUNDRED
        return self.value

    def covers(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class ClientTaxRule(TimestampMixin, Base):
    """A tax rate for one client, from ``valid_from`` to ``valid_to`` inclusive (None: open-
    ended), for products of ``product_types`` (empty: all)."""

    __tablename__ = "client_tax_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    percent: Mapped[Decimal] = mapped_column(MoneyType())
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    product_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    name: Mapped[str] = mapped_column(String(100), default="")
