"""Clients: the customers who sign in to the client area."""

from __future__ import annotations

import enum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.account import AccountMixin
from portal.models.base import Base, TimestampMixin, enum_column


class ClientStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    CLOSED = "closed"


class Client(AccountMixin, TimestampMixin, Base):
    __tablename__ = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    company: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    status: Mapped[ClientStatus] = mapped_column(
        enum_column(ClientStatus),
        default=ClientStatus.ACTIVE,
    )
    registration_ip: Mapped[str] = mapped_column(String(45), default="")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        return self.company or self.full_name

    @property
    def is_active(self) -> bool:
        return self.status != ClientStatus.CLOSED

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.email}>"
