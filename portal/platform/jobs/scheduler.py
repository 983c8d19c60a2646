"""APScheduler wiring. ``portal scheduler`` runs a blocking scheduler (production: one or more
such processes); with ``embedded_scheduler`` on (``make run``) each web process hosts one in the
background. Either way the database lease makes one runner per job at a time, and the slot key
runs each scheduled time once (docs/automation.md, "Leases and slots")."""

from __future__ import annotations

from datetime import datetime, timedelta

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
