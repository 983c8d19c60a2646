"""The product catalogue: groups, products with per-cycle prices per currency, configurable
options (quantity or dropdown) with their own prices, add-ons, and upgrade paths.

Prices are rows rather than columns per cycle so that a currency or a cycle is data, and so that
``portal.billing.PriceList`` can be built from them directly.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.column_types import MoneyType
from portal.core.model_base import Base, enum_column


class ProductType(enum.StrEnum):
    SERVICE = "service"
    LICENCE = "licence"
    USAGE = "usage"
    OTHER = "other"


class Visibility(enum.StrEnum):
    CLIENT_AREA = "client_area"
    STAFF_ONLY = "staff_only"
    HIDDEN = "hidden"


class OptionKind(enum.StrEnum):
    QUANTITY = "quantity"
    DROPDOWN = "dropdown"


class ProductGroup(Base):
    __tablename__ = "product_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    products: Mapped[list[Product]] = relationship(back_populates="group")


addon_product = Table(
    "addon_product",
    Base.metadata,
    Column("addon_id", ForeignKey("addon.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True),
)


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("product_group.id"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[ProductType] = mapped_column(enum_column(ProductType), default=ProductType.SERVICE)
    visibility: Mapped[Visibility] = mapped_column(
        enum_column(Visibility), default=Visibility.CLIENT_AREA
    )
    #: Name of the provisioning module (a plugin) that handles it, or None.
    module: Mapped[str | None] = mapped_column(String(100))
    #: Prices include tax (retail) or tax is added on top (B2B, the default in Russia).
    tax_inclusive: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: "actual" or "30/360"; None means the global default.
    day_count: Mapped[str | None] = mapped_column(String(10))
    #: Units left to sell; None means unlimited.
    stock: Mapped[int | None] = mapped_column(Integer)
    welcome_email: Mapped[str] = mapped_column(String(100), default="", server_default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Automation overrides; None means the global setting.
    #: Renewal invoices are made this many days before the service's next due date.
    invoice_days_before_due: Mapped[int | None] = mapped_column(Integer)
    #: Suspend services overdue this many days (0: never suspend).
    suspend_after_days: Mapped[int | None] = mapped_column(Integer)
    #: Terminate services overdue this many days (0: never terminate).
    terminate_after_days: Mapped[int | None] = mapped_column(Integer)
    #: Values of the fields plugins add to the product form, by plugin: {"diskspace": {...}}.
    plugin_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")

    group: Mapped[ProductGroup] = relationship(back_populates="products")
    prices: Mapped[list[ProductPrice]] = relationship(
        cascade="all, delete-orphan", order_by="ProductPrice.id"
    )
    options: Mapped[list[ConfigOption]] = relationship(
        cascade="all, delete-orphan", order_by="ConfigOption.sort_order"
    )


class ProductPrice(Base):
    """The price and setup fee of a product for one currency and billing cycle."""

    __tablename__ = "product_price"
    __table_args__ = (UniqueConstraint("product_id", "currency", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    cycle: Mapped[str] = mapped_column(String(20))
    price: Mapped[Decimal] = mapped_column(MoneyType())
    setup_fee: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))


class ConfigOption(Base):
    """A configurable option: a quantity ("Количество пользователей", unit "Пользователь") or a
    dropdown of choices. Buying more of an option is an upgrade of the service, never a second
    service."""

    __tablename__ = "config_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OptionKind] = mapped_column(enum_column(OptionKind))
    unit: Mapped[str] = mapped_column(String(50), default="")
    minimum: Mapped[int] = mapped_column(Integer, default=0)
    maximum: Mapped[int | None] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer, default=1)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    choices: Mapped[list[ConfigOptionChoice]] = relationship(
        cascade="all, delete-orphan", order_by="ConfigOptionChoice.sort_order"
    )
    prices: Mapped[list[ConfigOptionPrice]] = relationship(cascade="all, delete-orphan")


class ConfigOptionChoice(Base):
    __tablename__ = "config_option_choice"

    id: Mapped[int] = mapped_column(primary_key=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("config_option.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class ConfigOptionPrice(Base):
    """Per unit (quantity options) or per choice (dropdowns), per currency and cycle."""

    __tablename__ = "config_option_price"
    __table_args__ = (UniqueConstraint("option_id", "choice_id", "currency", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("config_option.id", ondelete="CASCADE"))
    choice_id: Mapped[int | None] = mapped_column(
        ForeignKey("config_option_choice.id", ondelete="CASCADE")
    )
    currency: Mapped[str] = mapped_column(String(3))
    cycle: Mapped[str] = mapped_column(String(20))
    price: Mapped[Decimal] = mapped_column(MoneyType())
    setup_fee: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))


class Addon(Base):
    """An add-on sold with some products (a licence pack, a backup), co-termed with its service."""

    __tablename__ = "addon"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    #: Provisioned together with the parent service when the parent is paid.
    activate_with_parent: Mapped[bool] = mapped_column(Boolean, default=True)

    products: Mapped[list[Product]] = relationship(secondary=addon_product)
    prices: Mapped[list[AddonPrice]] = relationship(cascade="all, delete-orphan")


class AddonPrice(Base):
    __tablename__ = "addon_price"
    __table_args__ = (UniqueConstraint("addon_id", "currency", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    addon_id: Mapped[int] = mapped_column(ForeignKey("addon.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    cycle: Mapped[str] = mapped_column(String(20))
    price: Mapped[Decimal] = mapped_column(MoneyType())
    setup_fee: Mapped[Decimal] = mapped_column(MoneyType(), default=Decimal(0))


class UpgradePath(Base):
    """Products a service of ``from_product`` may be upgraded or downgraded to."""

    __tablename__ = "upgrade_path"
    __table_args__ = (UniqueConstraint("from_product_id", "to_product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    to_product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
