"""Contacts: other people at a client, with their own e-mail and the letters they receive."""

from __future__ import annotations

import enum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.model_base import Base, TimestampMixin


class ContactRole(enum.StrEnum):
    GENERAL = "general"
    BILLING = "billing"
    TECHNICAL = "technical"


class Contact(TimestampMixin, Base):
    __tablename__ = "contact"
    # A client's contacts by first name, in keyset pages (migration 0039, docs/performance.md).
    __table_args__ = (Index("ix_contact_client_first_name", "client_id", "first_name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(50), default="")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The kinds of mail (``portal.messaging.sources.MailKind``) this contact gets a copy of.
    receives: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
