"""APScheduler wiring. ``portal scheduler`` runs a blocking scheduler (production: one or more
such processes); with ``embedded_scheduler`` on (``make run``) each web process hosts one in the
background. Either way the database lease makes one runner per job at a time."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

log = logging.getLogger(__name__)


def run_scheduled(app: Flask, job_id: str) -> None:
    """What APScheduler calls: push an app context, run the job for today under its lease."""
    from portal.core.clock import today
    from portal.platform.jobs.registry import jobs
    from portal.platform.jobs.runs import run_job

    with app.app_context():
        job = jobs()[job_id]
        run = run_job(job.id, job.run, today())
        if run is not None and run.error:
            log.error("job %s failed: %s", job_id, run.error.splitlines()[-1])


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
            scheduler.add_job(
                run_scheduled,
                CronTrigger.from_crontab(job.schedule, timezone=timezone),
                args=(app, job.id),
                id=job.id,
                name=job.id,
                replace_existing=True,
            )
    return scheduler
