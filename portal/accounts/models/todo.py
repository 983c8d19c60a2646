"""To-do items for staff, with a due date and an assignee; counted on the dashboard."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.model_base import Base, TimestampMixin, UTCDateTime

if TYPE_CHECKING:
    from portal.accounts.models.client import Client
    from portal.accounts.models.staff import Staff


class TodoItem(TimestampMixin, Base):
    __tablename__ = "todo_item"
    __table_args__ = (
        # Open to-dos, due first and undated last, in keyset pages (migration 0039,
        # portal.web.paging.nulls_last).
        Index(
            "ix_todo_item_open_due",
            "assignee_id",
            text("coalesce(due_date, '9999-12-31')"),
            "id",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
        Index(
            "ix_todo_item_open_due_all",
            text("coalesce(due_date, '9999-12-31')"),
            "id",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), index=True
    )
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    assignee: Mapped[Staff | None] = relationship(foreign_keys=[assignee_id])
    client: Mapped[Client | None] = relationship()
