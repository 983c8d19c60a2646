"""The plugin's own tables (prefix ``diskspace_``), created by its Alembic branch."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.plugin_api import Base, UTCDateTime


class DiskUsage(Base):
    """What a service's account used on a day, measured by the daily job, with the quota it had
    that day (so a later change of packages does not rewrite history)."""

    __tablename__ = "diskspace_usage"
    __table_args__ = (UniqueConstraint("service_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    used_bytes: Mapped[int] = mapped_column(BigInteger)
    quota_bytes: Mapped[int] = mapped_column(BigInteger)


class DiskRequest(Base):
    """The ticket the ``ticket`` backend opened for a provisioning command: re-checking the
    command finds it here instead of opening another one."""

    __tablename__ = "diskspace_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("provisioning_task.id", ondelete="CASCADE"), unique=True
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
