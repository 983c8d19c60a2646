"""The product catalogue: groups and products (prices and options arrive with the money flow)."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, enum_column


class ProductType(enum.StrEnum):
    SERVICE = "service"
    LICENCE = "licence"
    USAGE = "usage"
    OTHER = "other"


class Visibility(enum.StrEnum):
    CLIENT_AREA = "client_area"
    STAFF_ONLY = "staff_only"
    HIDDEN = "hidden"


class ProductGroup(Base):
    __tablename__ = "product_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    products: Mapped[list[Product]] = relationship(back_populates="group")


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("product_group.id"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[ProductType] = mapped_column(
        enum_column(ProductType),
        default=ProductType.SERVICE,
    )
    visibility: Mapped[Visibility] = mapped_column(
        enum_column(Visibility),
        default=Visibility.CLIENT_AREA,
    )
    #: Name of the provisioning module (a plugin) that handles it, or None.
    module: Mapped[str | None] = mapped_column(String(100))

    group: Mapped[ProductGroup] = relationship(back_populates="products")
