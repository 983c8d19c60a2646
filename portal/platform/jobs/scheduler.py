"""APScheduler wiring. ``portal scheduler`` runs a blocking scheduler (production: one or more
such processes); with ``embedded_scheduler`` on (``make run``) the first web process of a host
to take the scheduler lock hosts one in the background, the others none. Either way the
database lease makes one runner per job at a time, and the slot key runs each scheduled time
once (docs/automation.md, "Leases and slots", "One embedded scheduler")."""

from __future__ import annotations

import fcntl
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

#: How far back ``slot_of`` looks for the time a firing belongs to (a yearly schedule, and more).
SLOT_LOOKBACK = timedelta(days=400)


def slot_of(trigger: CronTrigger, now: datetime) -> datetime:
    """The scheduled time a firing at ``now`` belongs to: the trigger's last fire time at or
    before ``now``. Every scheduler computes the same slot whichever second it runs in
    (APScheduler does not tell the job which time it fires for)."""
    lookback = timedelta(minutes=1)
    while True:
        fire = trigger.get_next_fire_time(None, now - lookback)
        if (fire is not None and fire <= now) or lookback >= SLOT_LOOKBACK:
            break
        lookback *= 2
    slot = None
    while fire is not None and fire <= now:
        slot, fire = fire, trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return slot or now.replace(second=0, microsecond=0)


def run_scheduled(app: Flask, job_id: str, trigger: CronTrigger | None = None) -> None:
    """What APScheduler calls: push an app context, run the job for today under its lease, for
    the slot its ``trigger`` fired for."""
    from portal.core.app_state import clock
    from portal.core.clock import today
    from portal.platform.jobs.registry import jobs
    from portal.platform.jobs.runs import run_job

    with app.app_context():
        job = jobs()[job_id]
        slot = slot_of(trigger, clock().now()) if trigger is not None else None
        run_job(job.id, job.run, today(), slot=slot)  # a failure is logged and recorded there


#: The file whose exclusive lock makes a web process the host of the embedded scheduler.
SCHEDULER_LOCK = "scheduler.lock"


def claim_embedded_scheduler(instance_path: str | os.PathLike[str]) -> IO[str] | None:
    """Take the host's scheduler lock without waiting: the open lock file if this process is
    the first, else ``None``. The lock lasts as long as the file stays open in this process;
    the OS releases it when the process exits or dies, so the worker gunicorn starts in its
    place takes it over."""
    path = Path(instance_path) / SCHEDULER_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - kept open: closing it would release the lock
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")  # who hosts it, for whoever wonders
    handle.flush()
    return handle


def start_embedded_scheduler(app: Flask) -> BaseScheduler | None:
    """Start the background scheduler in this web process if it is the first to claim the
    lock; the other workers serve requests only (``mail.send`` ran once per worker before)."""
    lock = claim_embedded_scheduler(app.instance_path)
    if lock is None:
        return None
    app.extensions["portal.scheduler_lock"] = lock
    app.extensions["portal.scheduler"] = scheduler = build_scheduler(app, blocking=False)
    scheduler.start()
    return scheduler


def build_scheduler(app: Flask, *, blocking: bool) -> BaseScheduler:
    from portal.platform.jobs.registry import jobs

    timezone = app.config["PORTAL"]["default_timezone"]
    scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
        timezone=timezone, job_defaults={"coalesce": True, "max_instances": 1}
    )
    with app.app_context():
        for job in jobs().values():
            if not job.schedule:
                continue
            trigger = CronTrigger.from_crontab(job.schedule, timezone=timezone)
            scheduler.add_job(
                run_scheduled,
                trigger,
                args=(app, job.id, trigger),
                id=job.id,
                name=job.id,
                replace_existing=True,
            )
    return scheduler
