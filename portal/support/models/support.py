"""Support settings per department, and canned replies.

Departments belong to the staff module; what support needs to know about them (may strangers
open tickets by e-mail, is an acknowledgement sent) lives here, one optional row per department.
No row means the defaults: guests accepted, acknowledgement sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.model_base import Base, TimestampMixin

if TYPE_CHECKING:
    from portal.accounts.models.department import Department


class DepartmentSupport(Base):
    __tablename__ = "department_support"

    department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), primary_key=True
    )
    #: Mail from unknown senders opens a guest ticket (True) or is rejected (False).
    accept_guests: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Mail the sender an acknowledgement with the ticket reference when a ticket opens.
    send_acknowledgement: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Appended to staff replies sent from this department.
    signature: Mapped[str] = mapped_column(Text, default="")

    department: Mapped[Department] = relationship()


class CannedReply(TimestampMixin, Base):
    """A prepared answer; ``{client_name}``-style variables are filled in when it is used."""

    __tablename__ = "canned_reply"
    # The list by title, in keyset pages (migration 0039, docs/performance.md).
    __table_args__ = (Index("ix_canned_reply_title_id", "title", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: Offered in this department's tickets only; None offers it everywhere.
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )

    department: Mapped[Department | None] = relationship()
