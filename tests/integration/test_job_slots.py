"""Scheduled jobs under concurrency and faults (issue #14, item 6): a held lease refuses its own
holder, each scheduled slot runs once however many schedulers fire it, and a failed run stores
the exception, not the tail of a parameter dump."""

from datetime import UTC, date, datetime

import pytest
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy import func, insert, select

from portal.core.extensions import db
from portal.platform.jobs.runs import acquire_lease, run_job
from portal.platform.jobs.scheduler import claim_embedded_scheduler, slot_of
from portal.platform.models import JobRun, RunStatus, Setting
from portal.testing.concurrency import (
    fire_scheduled_job,
    run_in_process,
    run_in_processes,
    serve_with_embedded_scheduler,
)

TODAY = date(2026, 11, 2)


def test_a_held_lease_refuses_its_own_holder(app: Flask, clock) -> None:
    assert acquire_lease("billing.run", "staff #3", clock.now())
    assert not acquire_lease("billing.run", "staff #3", clock.now())


def test_two_run_now_clicks_by_one_staff_member_run_the_job_once(app: Flask, clock) -> None:
    second: list[JobRun | None] = []

    def work(as_of: date) -> dict[str, int]:
        # the second click arrives while the first run is still working
        second.append(run_job("mail.send", lambda day: None, as_of, holder="staff #3"))
        return {"done": 1}

    first = run_job("mail.send", work, TODAY, holder="staff #3")
    assert first is not None and first.status is RunStatus.SUCCEEDED
    assert second == [None]
    assert db.session.scalar(select(func.count(JobRun.id))) == 1
    # once the first has finished, the next click runs
    assert run_job("mail.send", lambda day: None, TODAY, holder="staff #3") is not None


@pytest.mark.parametrize(
    ("schedule", "now", "slot"),
    [
        ("0 3 * * *", datetime(2026, 11, 2, 15, 0, tzinfo=UTC), datetime(2026, 11, 2, 3, 0)),
        ("0 3 * * *", datetime(2026, 11, 2, 3, 0, 40, tzinfo=UTC), datetime(2026, 11, 2, 3, 0)),
        ("0 3 * * *", datetime(2026, 11, 2, 2, 59, tzinfo=UTC), datetime(2026, 11, 1, 3, 0)),
        ("*/5 * * * *", datetime(2026, 11, 2, 10, 7, 12, tzinfo=UTC), datetime(2026, 11, 2, 10, 5)),
        ("0 4 1 * *", datetime(2026, 11, 30, 9, 0, tzinfo=UTC), datetime(2026, 11, 1, 4, 0)),
    ],
)
def test_a_firing_belongs_to_the_last_scheduled_time(schedule, now, slot) -> None:
    trigger = CronTrigger.from_crontab(schedule, timezone="UTC")
    assert slot_of(trigger, now) == slot.replace(tzinfo=UTC)


def test_a_slot_fired_by_several_schedulers_runs_once(
    app: Flask, portal_database_url, tmp_path
) -> None:
    args = (portal_database_url, str(tmp_path / "a"), "support.automation", "0 3 * * *")
    # two schedulers fire the slot at the same moment, a third one late, after they finished
    run_in_processes(fire_scheduled_job, [(*args, (str(tmp_path / "barrier"), 2))] * 2)
    assert run_in_process(fire_scheduled_job, *args) == 0

    db.session.expire_all()
    runs = db.session.scalars(select(JobRun).where(JobRun.job_id == "support.automation")).all()
    assert len(runs) == 1
    assert runs[0].status is RunStatus.SUCCEEDED and runs[0].slot is not None
    assert runs[0].slot.hour == 3 and runs[0].slot.minute == 0


def test_a_failed_run_stores_the_database_error_not_its_parameters(app: Flask, clock) -> None:
    db.session.add(Setting(key="taken", value="1"))
    db.session.commit()

    def bulk_insert(as_of: date) -> None:
        rows = [{"key": f"k{n:05d}", "value": str(n)} for n in range(3000)]
        db.session.execute(insert(Setting), [*rows, {"key": "taken", "value": "2"}])

    run = run_job("x.bulk", bulk_insert, TODAY)
    assert run.status is RunStatus.FAILED
    assert run.error.startswith(("IntegrityError: ", "UniqueViolation: "))
    assert "taken" in run.error or "UNIQUE" in run.error
    assert "parameters" not in run.error and "k02999" not in run.error


def test_a_long_error_keeps_its_start(app: Flask, clock) -> None:
    def broken(as_of: date) -> None:
        raise RuntimeError("cannot reach the PBX: " + "x" * 5000)

    run = run_job("telephony.usage", broken, TODAY)
    assert run.error.startswith("RuntimeError: cannot reach the PBX: xxx")
    assert len(run.error) == 4000 and run.error.endswith("…")


def test_two_web_processes_host_one_embedded_scheduler(
    app: Flask, portal_database_url, tmp_path
) -> None:
    # two gunicorn workers of `make run` (embedded_scheduler on, one instance folder), started
    # at once and kept up past a minute boundary, when mail.send fires
    instance = str(tmp_path / "instance")
    served = run_in_processes(
        serve_with_embedded_scheduler,
        [(portal_database_url, instance, (str(tmp_path / "barrier"), 2))] * 2,
    )

    hosts = [pid for pid, hosted in served if hosted]
    assert len(hosts) == 1
    db.session.expire_all()
    runs = db.session.scalars(select(JobRun).where(JobRun.job_id == "mail.send")).all()
    assert runs, "the hosted scheduler fired mail.send at the minute"
    assert {run.worker.rsplit(":", 1)[1] for run in runs} == {str(hosts[0])}
    assert len({run.slot for run in runs}) == len(runs)
    # the processes have exited: the OS released the lock, so a new worker can take it over
    lock = claim_embedded_scheduler(instance)
    assert lock is not None
    assert claim_embedded_scheduler(instance) is None  # and then holds it against the others
    lock.close()
