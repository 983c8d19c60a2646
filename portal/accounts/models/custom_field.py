"""Custom client fields staff define (ИНН-like extras: counterparty code, ИТС, UTM tags...)."""

from __future__ import annotations

import enum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.model_base import Base, enum_column


class FieldType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHECKBOX = "checkbox"
    DROPDOWN = "dropdown"


class CustomField(Base):
    __tablename__ = "custom_field"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[FieldType] = mapped_column(enum_column(FieldType), default=FieldType.TEXT)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Shown (and editable) in the client area; otherwise staff-only.
    client_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class CustomFieldValue(Base):
    __tablename__ = "custom_field_value"
    __table_args__ = (UniqueConstraint("client_id", "field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_field.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(Text, default="")

    field: Mapped[CustomField] = relationship()
