"""Running a scheduled job exactly as DESIGN §5 asks: under a database lease, recorded.

``run_job`` takes the job's lease (or returns None when another runner holds it), records a
``job_run`` row, calls the job with the as-of date, and records what it did or the error. The job
itself must still be idempotent (unique keys per service/period, per invoice/reminder...): the
lease prevents two runners at once, the slot key (job, scheduled time) keeps a second scheduler
from running a slot the first has finished, and the job's keys make a second run change nothing
(docs/automation.md, "Leases and slots").
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError, StatementError

from portal.core.app_state import clock
from portal.core.extensions import db
from portal.core.transactions import savepoint
from portal.platform.models.job import JobLease, JobRun, RunStatus

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(minutes=30)
#: How much of a failed job's error is kept (its start: the exception type and message).
ERROR_LENGTH = 4000


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lease(job_id: str, holder: str, now: datetime, ttl: timedelta = LEASE_TTL) -> bool:
    """Take the lease if it is free or expired. Commits.

    A lease that is held refuses everyone, its own holder too: two "Run now" clicks by one staff
    member must not run the job twice at once (``run_job`` makes each run's holder unique).
    """
    expires = now + ttl
    taken = db.session.execute(
        update(JobLease)
        .where(JobLease.job_id == job_id, JobLease.expires_at < now)
        .values(holder=holder, expires_at=expires)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        try:
            with savepoint():
                db.session.execute(
                    insert(JobLease).values(job_id=job_id, holder=holder, expires_at=expires)
                )
            taken = 1
        except IntegrityError:
            taken = 0  # the row exists and someone else holds it
    db.session.commit()
    return bool(taken)


def release_lease(job_id: str, holder: str) -> None:
    db.session.execute(
        update(JobLease)
        .where(JobLease.job_id == job_id, JobLease.holder == holder)
        .values(expires_at=datetime(1970, 1, 1).astimezone())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _counts(result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    if is_dataclass(result):
        result = asdict(result)
    return {
        key: value for key, value in dict(result).items() if isinstance(value, int | str | float)
    }


def error_text(exc: BaseException, limit: int = ERROR_LENGTH) -> str:
    """What a failed run or billing run stores and shows: the exception's type and message,
    cut at the end when too long. For a database error, the driver's message without the
    statement and its parameters (thousands of them in a bulk insert, which would leave only
    the tail of a parameter dump)."""
    shown = exc
    if isinstance(exc, StatementError) and exc.orig is not None:
        shown = exc.orig
    text = f"{type(shown).__name__}: {shown}".strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_job(
    job_id: str,
    work: Callable[[date], Any],
    as_of: date,
    *,
    holder: str | None = None,
    slot: datetime | None = None,
) -> JobRun | None:
    """Run ``work(as_of)`` as job ``job_id`` if no one else is; returns the recorded run (None:
    another runner holds the lease, or the scheduled ``slot`` has run already)."""
    worker = holder or this_worker()
    lease_holder = f"{worker} #{secrets.token_hex(4)}"  # this run's own: see acquire_lease
    if not acquire_lease(job_id, lease_holder, clock().now()):
        return None
    try:
        run = JobRun(job_id=job_id, as_of=as_of, started_at=clock().now(), worker=worker, slot=slot)
        db.session.add(run)
        db.session.commit()
    except IntegrityError:  # another scheduler ran this slot (uq_job_run_slot)
        db.session.rollback()
        release_lease(job_id, lease_holder)
        return None
    run_id = run.id
    try:
        result = work(as_of)
    except Exception as exc:  # a failing job is recorded, never allowed to kill the scheduler
        db.session.rollback()
        log.exception("job %s failed", job_id)
        run = db.session.get(JobRun, run_id)
        run.status, run.error = RunStatus.FAILED, error_text(exc)
    else:
        run = db.session.get(JobRun, run_id)
        run.status, run.counts = RunStatus.SUCCEEDED, _counts(result)
    finally:
        run = db.session.get(JobRun, run_id)
        run.finished_at = clock().now()
        db.session.commit()
        release_lease(job_id, lease_holder)
    return run


def last_runs(job_ids: Iterable[str] | None = None) -> dict[str, JobRun]:
    """The latest run of each of ``job_ids`` (default: every registered job), in one query.

    Each job's latest run is ``max(id)`` of its runs, one probe of ``ix_job_run_job_latest``
    (job_id, id) per job (migration 0035): the cost does not grow with the history, which a
    scheduler adds to every minute (a ``GROUP BY`` over every run did)."""
    if job_ids is None:
        from portal.platform.jobs.registry import jobs

        job_ids = jobs()
    latest = [
        select(func.max(JobRun.id)).where(JobRun.job_id == job_id).scalar_subquery()
        for job_id in job_ids
    ]
    if not latest:
        return {}
    rows = db.session.scalars(select(JobRun).where(JobRun.id.in_(latest)))
    return {run.job_id: run for run in rows}


def recent_failures(since: datetime) -> int:
    return (
        db.session.scalar(
            select(db.func.count(JobRun.id)).where(
                JobRun.status == RunStatus.FAILED, JobRun.started_at >= since
            )
        )
        or 0
    )
