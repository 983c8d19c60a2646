"""Scheduled jobs: the lease that lets one runner at a time do a job, and the history of runs."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.model_base import Base, UTCDateTime, enum_column


class JobLease(Base):
    """Who runs a job now and until when. Taken with one conditional UPDATE that only a free or
    expired lease passes, so two schedulers, two web nodes or two clicks on "Run now" never run
    the same job at once; an expired lease (a crashed runner) is taken over. ``holder`` is unique
    per run (docs/automation.md, "Leases and slots")."""

    __tablename__ = "job_lease"

    job_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRun(Base):
    """One run of a job. A scheduled run names its ``slot``, the time the schedule fired for:
    unique per job, so two schedulers firing the same slot run it once, even one after the
    other; runs started by hand or from the command line have none."""

    __tablename__ = "job_run"
    __table_args__ = (Index("uq_job_run_slot", "job_id", "slot", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100), index=True)
    as_of: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus), default=RunStatus.RUNNING)
    #: What the run did, e.g. {"sent": 3, "retried": 1}.
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    #: host:pid of the process that ran it, or the staff member's name for "Run now".
    worker: Mapped[str] = mapped_column(String(200), default="")
    #: The scheduled time this run is for (None: started by hand or from the command line).
    slot: Mapped[datetime | None] = mapped_column(UTCDateTime())
