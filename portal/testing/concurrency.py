"""Helpers that run portal work in several real processes, to prove exactly-once properties.

Threads sharing one interpreter would not show what two gunicorn workers or two schedulers do;
these functions run in processes started with the ``spawn`` method, each with its own app and
database connections.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from portal.platform.hooks.markers import hookimpl


def _app(database_url: str, instance_path: str, extra_plugins: Sequence[object] = ()):  # type: ignore[no-untyped-def]
    from portal.core.app import create_app

    return create_app(
        {"database_url": database_url, "secret_key": "concurrency", "plugins": []},
        instance_path=instance_path,
        extra_plugins=extra_plugins,
    )


class DieAtInvoice:
    """A plugin that kills its process (no cleanup, like a power cut) when the billing run
    creates its ``n``-th invoice, in the middle of a batch's transaction."""

    def __init__(self, n: int) -> None:
        self.left = n

    @hookimpl
    def invoice_created(self, invoice: Any) -> None:
        self.left -= 1
        if self.left == 0:
            os._exit(3)


class PauseWhenPaid:
    """A plugin that, the first time an invoice becomes paid (the billing run paying one from
    credit), creates the file ``signal`` and waits ``seconds`` inside that transaction: another
    process can act while the run holds what it has locked and written, uncommitted."""

    def __init__(self, signal: str, seconds: float) -> None:
        self.signal, self.seconds, self.paused = signal, seconds, False

    @hookimpl
    def invoice_paid(self, invoice: Any) -> None:
        if not self.paused:
            self.paused = True
            with open(self.signal, "w"):
                pass
            time.sleep(self.seconds)


def start_together(directory: str, count: int, timeout: float = 60.0) -> None:
    """Wait until ``count`` processes have called this with ``directory`` (a barrier): spawned
    processes start a second or more apart, which can be longer than the work they race on."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, str(os.getpid())), "w"):
        pass
    deadline = time.monotonic() + timeout
    while len(os.listdir(directory)) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def billing_run(
    database_url: str,
    instance_path: str,
    day: str,
    batch_size: int = 2,
    die_at: int = 0,
    pause: tuple[str, float] | None = None,
    together: tuple[str, int] | None = None,
) -> dict[str, int]:
    """Run the billing run for ``day``; with ``die_at`` the process dies at that invoice, with
    ``pause`` (signal file, seconds) it stops when credit pays an invoice (``PauseWhenPaid``),
    with ``together`` (directory, processes) it starts when the others do (``start_together``)."""
    from portal.invoicing.billing_run import bill_due

    extra: tuple[object, ...] = (DieAtInvoice(die_at),) if die_at else ()
    if pause is not None:
        extra += (PauseWhenPaid(*pause),)
    app = _app(database_url, instance_path, extra)
    with app.app_context():
        if together is not None:
            start_together(*together)
        report = bill_due(date.fromisoformat(day), batch_size=batch_size, started_by="test")
    return {"invoices": report.invoices, "services": report.services}


def run_in_process(function: Callable[..., Any], *args: Any) -> int:
    """Run ``function(*args)`` in one spawned process and return its exit code."""
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=function, args=args)
    process.start()
    process.join()
    return process.exitcode or 0


def issue_drafts(
    database_url: str, instance_path: str, invoice_ids: Sequence[int], day: str
) -> list[str]:
    """Issue the given drafts one by one; returns the numbers they got."""
    from portal.core.extensions import db
    from portal.invoicing.invoices import issue_invoice
    from portal.invoicing.models import Invoice

    app = _app(database_url, instance_path)
    numbers = []
    with app.app_context():
        for invoice_id in invoice_ids:
            invoice = db.session.get(Invoice, invoice_id)
            numbers.append(issue_invoice(invoice, today=date.fromisoformat(day)).number)
    return numbers


def run_in_processes(function: Callable[..., Any], argument_sets: Sequence[tuple]) -> list[Any]:
    """Run ``function(*args)`` for each argument set in its own process, all at once."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(argument_sets)) as pool:
        return pool.starmap(function, argument_sets)


def confirm_statement(database_url: str, instance_path: str, statement_id: int) -> int:
    """Confirm a stored bank statement, as a staff member pressing "Confirm the import" would;
    returns how many payments this process recorded."""
    from portal.core.extensions import db
    from portal.invoicing import bank_statements
    from portal.invoicing.models import BankStatementFile

    app = _app(database_url, instance_path)
    with app.app_context():
        stored = db.session.get(BankStatementFile, statement_id)
        return len(bank_statements.confirm(stored).recorded)


def pay_invoice_at_once(
    database_url: str,
    instance_path: str,
    invoice_id: int,
    amount: str,
    reference: str,
    barrier: Any,
) -> None:
    """Pay ``amount`` of an invoice the way the admin form or a bank import does: load the
    invoice, then record the payment; every process loads it before any of them pays
    (``barrier``: a ``multiprocessing`` barrier of the spawn context), as two clerks or a clerk
    and the bank import would at the same instant."""
    from decimal import Decimal

    from portal.accounts.models import Client
    from portal.core.extensions import db
    from portal.invoicing import payments
    from portal.invoicing.models import Invoice

    app = _app(database_url, instance_path)
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        client = db.session.get(Client, invoice.client_id)
        barrier.wait(60)
        payments.record_payment(
            client,
            amount=Decimal(amount),
            method="bank",
            reference=reference,
            payment_date=invoice.issue_date,
            invoices=[invoice],
        )


def import_statement_file(database_url: str, instance_path: str, data: bytes) -> int:
    """Import a statement file as ``portal billing import-statement`` does (store, confirm);
    returns how many payments this process reports as recorded."""
    from portal.invoicing import bank_statements

    app = _app(database_url, instance_path)
    with app.app_context():
        return len(bank_statements.import_statement(data).recorded)


def deliver_mail(
    database_url: str,
    instance_path: str,
    smtp_port: int,
    via: str,
    lease_seconds: float,
    seconds: float,
) -> int:
    """Deliver the outbox over and over for at most ``seconds``, until no mail is queued, as
    the scheduler's ``mail.send`` job (``via="job"``, under its job lease) or as ``portal mail
    send`` (``via="cli"``). The claim lease is cut to ``lease_seconds`` so that it runs out
    while a slow SMTP server is still taking this sender's mail. Returns how many claimed
    messages this sender found taken over by another one (and did not send)."""
    from portal.core.app import create_app
    from portal.core.clock import today
    from portal.core.extensions import db
    from portal.messaging import outbox
    from portal.messaging.models import OutboundMessage, OutboundStatus
    from portal.platform.jobs.registry import jobs
    from portal.platform.jobs.runs import run_job

    outbox.CLAIM_LEASE = timedelta(seconds=lease_seconds)
    app = create_app(
        {
            "database_url": database_url,
            "secret_key": "concurrency",
            "plugins": [],
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "mail_from": "billing@portal.test",
        },
        instance_path=instance_path,
    )
    queued = select(func.count(OutboundMessage.id)).where(
        OutboundMessage.status == OutboundStatus.QUEUED
    )
    give_up = time.monotonic() + seconds
    taken_over = 0
    with app.app_context():
        while db.session.scalar(queued) and time.monotonic() < give_up:
            db.session.rollback()
            if via == "job":
                job = jobs()["mail.send"]
                run = run_job(job.id, job.run, today())
                taken_over += run.counts.get("skipped", 0) if run is not None else 0
            else:
                result = app.test_cli_runner().invoke(args=["mail", "send"])
                assert result.exit_code == 0, result.output
                taken_over += int(result.output.strip().rpartition(" ")[2])
            time.sleep(0.1)
        db.session.rollback()
    return taken_over


def fire_scheduled_job(
    database_url: str,
    instance_path: str,
    job_id: str,
    schedule: str,
    together: tuple[str, int] | None = None,
) -> None:
    """Do what a scheduler does when ``schedule`` (a crontab line, UTC) fires ``job_id``; with
    ``together`` (directory, processes) it fires when the others do (``start_together``)."""
    from apscheduler.triggers.cron import CronTrigger

    from portal.platform.jobs.scheduler import run_scheduled

    app = _app(database_url, instance_path)
    if together is not None:
        start_together(*together)
    run_scheduled(app, job_id, CronTrigger.from_crontab(schedule, timezone="UTC"))


def render_documents(database_url: str, instance_path: str, now: str) -> int:
    """Run the ``documents.render`` work once, as one worker process; returns how many
    documents this process rendered."""
    from datetime import datetime

    from portal.invoicing.stored_documents import render_due

    app = _app(database_url, instance_path)
    with app.app_context():
        return render_due(datetime.fromisoformat(now), limit=1000)["rendered"]


def serve_with_embedded_scheduler(
    database_url: str, instance_path: str, together: tuple[str, int]
) -> tuple[int, bool]:
    """Be a web process of ``make run``: build the app with ``embedded_scheduler`` on (all
    processes share ``instance_path``, as gunicorn's workers do), start with the others, stay
    up past the next minute (``mail.send`` fires every minute), then stop the scheduler if this
    process hosts one. Returns the process id and whether it hosted the scheduler."""
    from datetime import datetime

    from portal.core.app import create_app

    start_together(*together)
    app = create_app(
        {
            "database_url": database_url,
            "secret_key": "concurrency",
            "plugins": [],
            "embedded_scheduler": True,
        },
        instance_path=instance_path,
    )
    scheduler = app.extensions.get("portal.scheduler")
    time.sleep(60 - datetime.now().second + 5)
    if scheduler is not None:
        scheduler.shutdown(wait=True)
    return os.getpid(), scheduler is not None
