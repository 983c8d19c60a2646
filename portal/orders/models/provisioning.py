"""The provisioning queue: module commands for a service, run by a job with retries.

A command is queued in the transaction that decides it (an invoice paid, a suspension), so it
is never lost and never runs for a change that rolled back. The provisioner named by the
product's ``module`` runs it later; a failure is retried with backoff and finally marks the
service "provisioning failed" for staff, without touching the payment that caused it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.model_base import Base, TimestampMixin, UTCDateTime, enum_column


class ProvisioningAction(enum.StrEnum):
    CREATE = "create"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    TERMINATE = "terminate"
    CHANGE_PACKAGE = "change_package"


class TaskStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ProvisioningTask(TimestampMixin, Base):
    __tablename__ = "provisioning_task"
    __table_args__ = (Index("ix_provisioning_task_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    #: The add-on it is for, when the command is about an add-on of the service.
    service_addon_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_addon.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[ProvisioningAction] = mapped_column(enum_column(ProvisioningAction))
    #: The provisioner (product module) it was queued for.
    module: Mapped[str] = mapped_column(String(100))
    #: Arguments of the command (e.g. the old and new options of a package change).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus), default=TaskStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: "staff #3" when staff marked it done by hand.
    finished_by: Mapped[str] = mapped_column(String(100), default="")
    #: A caller's key for "this command once" (e.g. "create:17:invoice:42"); NULLs repeat.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
