"""Scheduled jobs: the lease gives one runner at a time, runs are recorded with counts or the
error, and the scheduler is built from the job settings."""

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.messaging.outbox import queue_email
from portal.platform.jobs.registry import jobs
from portal.platform.jobs.runs import acquire_lease, release_lease, run_job
from portal.platform.jobs.scheduler import build_scheduler
from portal.platform.models import JobRun, RunStatus

TODAY = date(2026, 11, 2)


def test_one_holder_at_a_time_and_an_expired_lease_is_taken_over(app: Flask, clock) -> None:
    now = clock.now()
    assert acquire_lease("billing.run", "node-a", now)
    assert not acquire_lease("billing.run", "node-b", now)
    assert not acquire_lease("billing.run", "node-a", now)  # a held lease refuses its holder too
    assert not acquire_lease("billing.run", "node-b", now + timedelta(minutes=29))
    assert acquire_lease("billing.run", "node-b", now + timedelta(minutes=31))  # a crashed holder
    release_lease("billing.run", "node-b")
    assert acquire_lease("billing.run", "node-a", now + timedelta(minutes=32))


def test_a_run_is_recorded_with_its_counts(app: Flask, clock, mailbox) -> None:
    queue_email(to="client@example.com", subject="Счёт", text="Во вложении счёт.")
    db.session.commit()
    run = run_job("mail.send", jobs()["mail.send"].run, TODAY)
    assert run.status is RunStatus.SUCCEEDED and run.counts["sent"] == 1
    assert run.finished_at is not None and len(mailbox) == 1
    again = run_job("mail.send", jobs()["mail.send"].run, TODAY)
    assert again.counts["sent"] == 0 and len(mailbox) == 1


def test_a_failing_job_is_recorded_and_frees_its_lease(app: Flask, clock) -> None:
    def broken(as_of: date) -> None:
        raise RuntimeError(f"cannot reach the PBX on {as_of}")

    run = run_job("telephony.usage", broken, TODAY)
    assert run.status is RunStatus.FAILED
    assert "RuntimeError: cannot reach the PBX on 2026-11-02" in run.error
    assert acquire_lease("telephony.usage", "someone-else", clock.now())


def test_a_job_whose_lease_is_held_does_not_run(app: Flask, clock) -> None:
    calls = []
    assert acquire_lease("mail.send", "another-node", clock.now())
    assert run_job("mail.send", calls.append, TODAY) is None
    assert calls == [] and db.session.scalar(select(func.count(JobRun.id))) == 0


def test_schedules_come_from_the_setting(make_app) -> None:
    other = make_app(job_schedules={"mail.send": "*/2 * * * *", "support.automation": ""})
    scheduler = build_scheduler(other, blocking=False)
    scheduled = {job.id for job in scheduler.get_jobs()}
    assert "support.automation" not in scheduled  # "" turns it off
    assert {"mail.send", "billing.run", "billing.reminders", "provisioning.run"} <= scheduled
    assert "*/2" in str(scheduler.get_job("mail.send").trigger)
    assert "hour='3'" in str(scheduler.get_job("billing.run").trigger)


def test_staff_run_a_job_and_see_the_history(staff_web) -> None:
    response = staff_web.submit("/admin/jobs/mail.send/run", {}, form_page="/admin/jobs")
    assert response.status_code == 302
    page = staff_web.get("/admin/jobs").get_data(as_text=True)
    assert 'data-job="mail.send"' in page and "Succeeded" in page
    assert staff_web.submit("/admin/jobs/nope/run", {}, form_page="/admin/jobs").status_code == 404


def test_failed_runs_are_highlighted_on_the_dashboard(staff_web) -> None:
    run_job("x.broken", lambda as_of: 1 / 0, TODAY)
    assert 'id="failed-jobs"' in staff_web.get("/admin/").get_data(as_text=True)


def test_cli_runs_a_job(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "support.automation", "--as-of", "2026-11-02"])
    assert result.exit_code == 0, result.output
    assert "support.automation succeeded" in result.output
    listed = runner.invoke(args=["jobs", "list"])
    assert "support.automation" in listed.output and "succeeded" in listed.output
    unknown = runner.invoke(args=["jobs", "run", "nope"])
    assert unknown.exit_code != 0 and "Unknown job nope" in unknown.output


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]"])
def test_job_schedules_from_the_environment_must_be_an_object(tmp_path, raw: str) -> None:
    from portal.core.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="must be a JSON object"):
        load_settings(tmp_path, environ={"PORTAL_JOB_SCHEDULES": raw})
