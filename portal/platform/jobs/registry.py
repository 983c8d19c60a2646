"""Job definitions: a stable id, a default schedule (crontab) and the service call it makes.

A job is an importable function of the as-of date; it runs inside an app context pushed by the
scheduler (or the ``portal jobs run`` command, or the admin's "Run now"). Schedules are the
``job_schedules`` setting: ``{"mail.send": "*/2 * * * *"}`` overrides a default, and an empty
string turns a job off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class JobDefinition:
    id: str
    label: Any  # a lazy translatable string
    schedule: str  # crontab: minute hour day month weekday
    run: Callable[[date], Any]


def _now_for(as_of: date) -> datetime:
    """The moment a job acts at: now when as-of is today, else the end of the as-of day."""
    from portal.core.app_state import clock

    tz = ZoneInfo(current_app.config["PORTAL"]["default_timezone"])
    now = clock().now()
    if now.astimezone(tz).date() == as_of:
        return now
    return datetime.combine(as_of, time(23, 59), tz)


def money_check(as_of: date) -> Any:
    from portal.invoicing.money_check import nightly_check

    return nightly_check(as_of)


def send_mail(as_of: date) -> Any:
    from portal.messaging.outbox import deliver_outbox

    return deliver_outbox(_now_for(as_of), limit=500)


def support_automation(as_of: date) -> Any:
    from portal.support.escalation import run_all

    report = run_all(_now_for(as_of))
    return {"escalated": report.escalated, "closed": report.closed}


def billing_run(as_of: date) -> Any:
    from portal.invoicing.billing_run import bill_due

    report = bill_due(as_of, started_by="scheduler")
    return {"clients": report.clients, "invoices": report.invoices, "lines": report.lines}


def billing_reminders(as_of: date) -> Any:
    from portal.invoicing.dunning import send_reminders

    return send_reminders(as_of)


def billing_late_fees(as_of: date) -> Any:
    from portal.invoicing.dunning import charge_late_fees

    return charge_late_fees(as_of)


def services_overdue(as_of: date) -> Any:
    from portal.invoicing.overdue import process_overdue

    return process_overdue(as_of)


def provisioning_run(as_of: date) -> Any:
    from portal.orders.provisioning import run_due

    return run_due(_now_for(as_of))


def documents_render(as_of: date) -> Any:
    from portal.invoicing.stored_documents import render_due

    return render_due(_now_for(as_of))


CORE_JOBS: tuple[JobDefinition, ...] = (
    JobDefinition("billing.run", _l("Billing run: renewal invoices"), "0 3 * * *", billing_run),
    JobDefinition(
        "services.overdue",
        _l("Overdue services: warn, suspend, terminate"),
        "0 4 * * *",
        services_overdue,
    ),
    JobDefinition("billing.late_fees", _l("Late fees"), "15 4 * * *", billing_late_fees),
    JobDefinition("billing.reminders", _l("Payment reminders"), "0 6 * * *", billing_reminders),
    JobDefinition(
        "billing.money_check",
        _l("Money check: paid amounts and credit balances against their ledgers"),
        "30 2 * * *",
        money_check,
    ),
    JobDefinition("mail.send", _l("Deliver queued e-mail"), "* * * * *", send_mail),
    JobDefinition(
        "provisioning.run", _l("Provisioning queue: module commands"), "* * * * *", provisioning_run
    ),
    JobDefinition(
        "documents.render",
        _l("Issued documents: render and store their PDFs"),
        "* * * * *",
        documents_render,
    ),
    JobDefinition(
        "support.automation",
        _l("Ticket escalation and auto-close"),
        "*/5 * * * *",
        support_automation,
    ),
)


def jobs() -> dict[str, JobDefinition]:
    """Every job, core and plugins' (an id already taken is ignored), with its effective
    schedule (the ``job_schedules`` setting wins over the default)."""
    from portal.core.app_state import plugins

    overrides: dict[str, str] = current_app.config["PORTAL"].get("job_schedules", {}) or {}
    found: dict[str, JobDefinition] = {}
    for job in (*CORE_JOBS, *plugins().collect("register_scheduled_jobs")):
        if job.id not in found:
            found[job.id] = JobDefinition(
                job.id, job.label, overrides.get(job.id, job.schedule), job.run
            )
    return found
