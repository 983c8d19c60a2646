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
from flask_babel import lazy_pgettext

from portal.platform.models.job import RunStatus
from portal.web import labels


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


#: How a run's status and the figures a job returns read on the Scheduled jobs page; a plugin
#: registers the figures of its own jobs with ``labels.register("job_result", {...})``.
RUN_STATUS_LABELS = labels.register(
    "job_status",
    {
        RunStatus.RUNNING: lazy_pgettext("job run", "Running"),
        RunStatus.SUCCEEDED: lazy_pgettext("job run", "Succeeded"),
        RunStatus.FAILED: lazy_pgettext("job run", "Failed"),
    },
)
RESULT_LABELS = labels.register(
    "job_result",
    {
        "run_id": lazy_pgettext("job result", "Billing run"),
        "clients": lazy_pgettext("job result", "Clients"),
        "invoices": lazy_pgettext("job result", "Invoices"),
        "lines": lazy_pgettext("job result", "Lines"),
        "services": lazy_pgettext("job result", "Services"),
        "balances": lazy_pgettext("job result", "Credit balances"),
        "invoice_drift": lazy_pgettext("job result", "Invoices that disagree"),
        "credit_drift": lazy_pgettext("job result", "Balances that disagree"),
        "details": lazy_pgettext("job result", "Details"),
        "sent": lazy_pgettext("job result", "Sent"),
        "retried": lazy_pgettext("job result", "To retry"),
        "failed": lazy_pgettext("job result", "Failed"),
        "skipped": lazy_pgettext("job result", "Skipped"),
        "escalated": lazy_pgettext("job result", "Escalated"),
        "closed": lazy_pgettext("job result", "Closed"),
        "errors": lazy_pgettext("job result", "Errors"),
        "fees": lazy_pgettext("job result", "Late fees"),
        "warned": lazy_pgettext("job result", "Warned"),
        "suspended": lazy_pgettext("job result", "Suspended"),
        "terminated": lazy_pgettext("job result", "Terminated"),
        "done": lazy_pgettext("job result", "Done"),
        "waiting": lazy_pgettext("job result", "Waiting"),
        "rendered": lazy_pgettext("job result", "Rendered"),
        "before_due": lazy_pgettext("job result", "Reminders before the due date"),
        "on_due": lazy_pgettext("job result", "Reminders on the due date"),
        "first_overdue": lazy_pgettext("job result", "First overdue notices"),
        "second_overdue": lazy_pgettext("job result", "Second overdue notices"),
        "third_overdue": lazy_pgettext("job result", "Third overdue notices"),
    },
)

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
