"""Staff notes on a client. Staff talk to each other here, never in ticket replies."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.model_base import Base, TimestampMixin, UTCDateTime

if TYPE_CHECKING:
    from portal.accounts.models.client import Client
    from portal.accounts.models.staff import Staff


class Note(TimestampMixin, Base):
    __tablename__ = "note"
    __table_args__ = (
        # Keyset pages (migration 0033, docs/performance.md): a staff member's own notes.
        Index("ix_note_author_created", "author_id", "created_at", "id"),
        # The client card's Notes tab: important first, then newest (migration 0039).
        Index("ix_note_client_important_created", "client_id", "important", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    #: Important notes are pinned to the top of the client summary.
    important: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    author: Mapped[Staff | None] = relationship()
    client: Mapped[Client] = relationship()
