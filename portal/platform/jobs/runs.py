"""Running a scheduled job exactly as DESIGN §5 asks: under a database lease, recorded.

``run_job`` takes the job's lease (or returns None when another runner holds it), records a
``job_run`` row, calls the job with the as-of date, and records what it did or the error. The job
itself must still be idempotent (unique keys per service/period, per invoice/reminder...): the
lease prevents two runners at once, the keys make a second run change nothing.
"""

from __future__ import annotations

import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from portal.core.app_state import clock
from portal.core.extensions import db
from portal.core.transactions import savepoint
from portal.platform.models.job import JobLease, JobRun, RunStatus

LEASE_TTL = timedelta(minutes=30)


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lease(job_id: str, holder: str, now: datetime, ttl: timedelta = LEASE_TTL) -> bool:
    """Take the lease if it is free, expired or already ours. Commits."""
    expires = now + ttl
    taken = db.session.execute(
        update(JobLease)
        .where(
            JobLease.job_id == job_id,
            (JobLease.expires_at < now) | (JobLease.holder == holder),
        )
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


def run_job(
    job_id: str, work: Callable[[date], Any], as_of: date, *, holder: str | None = None
) -> JobRun | None:
    """Run ``work(as_of)`` as job ``job_id`` if no one else is; returns the recorded run
    (None: another runner holds the lease)."""
    holder = holder or this_worker()
    if not acquire_lease(job_id, holder, clock().now()):
        return None
    run = JobRun(job_id=job_id, as_of=as_of, started_at=clock().now(), worker=holder)
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    try:
        result = work(as_of)
    except Exception:  # a failing job is recorded, never allowed to kill the scheduler
        db.session.rollback()
        run = db.session.get(JobRun, run_id)
        run.status, run.error = RunStatus.FAILED, traceback.format_exc()[-4000:]
    else:
        run = db.session.get(JobRun, run_id)
        run.status, run.counts = RunStatus.SUCCEEDED, _counts(result)
    finally:
        run = db.session.get(JobRun, run_id)
        run.finished_at = clock().now()
        db.session.commit()
        release_lease(job_id, holder)
    return run


def last_runs() -> dict[str, JobRun]:
    """The latest run of every job (one query)."""
    latest = select(db.func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    rows = db.session.scalars(select(JobRun).where(JobRun.id.in_(select(latest.c.id))))
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
