"""Clients: the customers who sign in to the client area, with their legal and billing details."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models.account import AccountMixin, TwoFactorMixin
from portal.accounts.requisites import LegalType
from portal.core.column_types import MoneyType
from portal.core.model_base import Base, TimestampMixin, UTCDateTime, enum_column

if TYPE_CHECKING:
    from portal.accounts.models.contact import Contact
    from portal.accounts.models.staff import Staff


class ClientStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    CLOSED = "closed"


class Rating(enum.StrEnum):
    NORMAL = "normal"
    GOOD = "good"
    CONFLICTING = "conflicting"


class ClientGroup(Base):
    """Groups staff sort clients into (e.g. "Партнёры", "VIP"); later carry discounts and SLAs."""

    __tablename__ = "client_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    colour: Mapped[str] = mapped_column(String(7), default="#6c757d")


class Client(AccountMixin, TwoFactorMixin, TimestampMixin, Base):
    __tablename__ = "client"
    __table_args__ = (
        Index("ix_client_inn", "inn"),
        Index("ix_client_phone", "phone"),
        Index("ix_client_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    company: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    postcode: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="RU")
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    status: Mapped[ClientStatus] = mapped_column(
        enum_column(ClientStatus), default=ClientStatus.ACTIVE
    )
    registration_ip: Mapped[str] = mapped_column(String(45), default="")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("client_group.id"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    sales_manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)
    rating: Mapped[Rating] = mapped_column(enum_column(Rating), default=Rating.NORMAL)
    label: Mapped[str] = mapped_column(String(50), default="")
    admin_notes: Mapped[str] = mapped_column(Text, default="")

    # Legal details (реквизиты)
    legal_type: Mapped[LegalType] = mapped_column(
        enum_column(LegalType), default=LegalType.INDIVIDUAL
    )
    inn: Mapped[str] = mapped_column(String(12), default="")
    kpp: Mapped[str] = mapped_column(String(9), default="")
    bank_name: Mapped[str] = mapped_column(String(255), default="")
    bank_bic: Mapped[str] = mapped_column(String(9), default="")
    bank_account: Mapped[str] = mapped_column(String(20), default="")
    bank_corr_account: Mapped[str] = mapped_column(String(20), default="")

    # Billing flags
    no_late_fees: Mapped[bool] = mapped_column(Boolean, default=False)
    no_overdue_notices: Mapped[bool] = mapped_column(Boolean, default=False)
    tax_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    separate_invoices: Mapped[bool] = mapped_column(Boolean, default=False)
    never_suspend: Mapped[bool] = mapped_column(Boolean, default=False)
    no_suspend_until: Mapped[date | None] = mapped_column(Date)
    # Accounts that may run into debt (постоплата, отсрочка платежа)
    #: The most the client may owe in unpaid invoices before new orders and changes are blocked.
    credit_limit: Mapped[Decimal | None] = mapped_column(MoneyType())
    #: Deferral: the client's invoices are due this many days after issue (None: the setting).
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    #: New orders and changes are blocked while an invoice is this many days overdue.
    block_orders_after_days: Mapped[int | None] = mapped_column(Integer)

    billing_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", use_alter=True, ondelete="SET NULL")
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: A new e-mail waiting for confirmation by the link sent to it.
    pending_email: Mapped[str] = mapped_column(String(254), default="")

    group: Mapped[ClientGroup | None] = relationship()
    manager: Mapped[Staff | None] = relationship(foreign_keys=[manager_id])
    sales_manager: Mapped[Staff | None] = relationship(foreign_keys=[sales_manager_id])
    referred_by: Mapped[Client | None] = relationship(remote_side=[id])
    billing_contact: Mapped[Contact | None] = relationship(
        foreign_keys=[billing_contact_id], post_update=True
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        return self.company or self.full_name

    @property
    def person_name(self) -> str:
        """Who a letter greets and whose name a message carries: the person ("Иван Петрович"),
        the company only when no person's name is known ("Здравствуйте, Иван Петрович", not
        "Здравствуйте, ООО Ромашка")."""
        return self.full_name or self.display_name

    @property
    def is_active(self) -> bool:
        return self.status != ClientStatus.CLOSED

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.email}>"
