"""Fault scenarios of issue #14 ("nothing lost, nothing twice"), replayed on PostgreSQL with real
processes; prints duplicates, lost and gaps per scenario (all 0 once the issue is fixed).

Usage: ``python bench/faults.py [--clients N] [--only 1,5,7] [--payments M]`` (``make faults``).
Each scenario gets a fresh database on the server of ``PORTAL_TEST_POSTGRES_URL`` (default
127.0.0.1:5432), seeded like ``bench/billing_run.py`` (N clients with a monthly service due
01.12.2026, default 2 000; the issue used 10 000). The work runs as the operators' own commands
(``portal billing run``, ``portal mail send``, ``portal jobs run ...``,
``portal billing import-statement``) in separate processes, or through the services in
``multiprocessing`` workers where there is no command (two clerks paying one invoice).

1. the billing run twice in a row;
2. four billing runs at once, batches of 500 (2a) and of 50 (2b);
3. a billing run killed with SIGKILL in the middle, then run again;
4. the billing run's connections terminated (``pg_terminate_backend``) mid-run, then run again;
5. two payments of half of each invoice recorded at the same instant by two processes;
6. a bank payment entered by hand, then the same payment order imported from a
   1CClientBankExchange statement (a duplicate is a second payment of the same order);
7. a slow SMTP server (aiosmtpd, each message delayed) with the ``mail.send`` job and
   ``portal mail send`` delivering at once: messages received twice (by Message-ID) and lost;
8. the SMTP server down during a delivery, then back (the retry is made due at once);
9. a hanging provisioning command (the diskspace module's command backend running ``sleep``)
   while the billing run runs: the run's duration, and ``sleep`` processes left behind once the
   provisioning worker is killed.

Duplicates: a service period billed twice, a payment recorded twice, a message delivered twice.
Lost: a due service left unbilled, an invoice whose paid amount or status disagrees with its
payments (``portal billing check``), a message never delivered. Gaps: invoice numbers skipped.
Importing this module does nothing; it is not part of ``make test`` or ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-28"
#: The next month's run (services then due 01.01.2027).
NEXT_MONTH = "2026-12-29"
#: A ``sleep`` no other program on the machine runs, to find what the hanging command left.
HANG = "86399"
#: Scenario 9's command timeout, seconds.
COMMAND_TIMEOUT = 5


@dataclass
class Figures:
    duplicates: int | str = "-"
    lost: int | str = "-"
    gaps: int | str = "-"
    notes: str = ""


def _bench_seed() -> Callable[[int], None]:
    """``seed`` of bench/billing_run.py: the same clients and services as the billing bench."""
    spec = importlib.util.spec_from_file_location(
        "bench_billing_run", ROOT / "bench/billing_run.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.seed


class Portal:
    """One scenario's database, its app (to seed and count) and the ``portal`` command."""

    def __init__(self, stack: ExitStack, settings: dict[str, Any]) -> None:
        from portal.core.app import create_app
        from portal.platform.plugin_migrations import upgrade_all
        from portal.testing.databases import fresh_database

        self.tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        self.url = stack.enter_context(fresh_database(self.tmp))
        self.settings = {"database_url": self.url, "secret_key": "faults", **settings}
        self.app = create_app(self.settings, instance_path=str(self.tmp))
        stack.enter_context(self.app.app_context())
        upgrade_all()
        from portal.core.extensions import db

        db.session.remove()

    def env(self) -> dict[str, str]:
        env = {**os.environ, "PORTAL_INSTANCE_PATH": str(self.tmp)}
        for key, value in self.settings.items():
            text = ",".join(value) if isinstance(value, list) else str(value)
            env[f"PORTAL_{key.upper()}"] = text
        return env

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """``portal ARGS`` in a process of its own (this checkout's code)."""
        code = "import sys; from portal.core.cli import main; sys.exit(main())"
        return subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def run(self, *args: str) -> int:
        return self.start(*args).wait()

    def scalar(self, sql: str) -> Any:
        from sqlalchemy import text

        from portal.core.extensions import db

        db.session.rollback()  # see what the other processes committed
        return db.session.execute(text(sql)).scalar()


def billing_run(portal: Portal, batch: int = 500, as_of: str = AS_OF) -> subprocess.Popen[bytes]:
    return portal.start("billing", "run", "--as-of", as_of, "--yes", "--batch-size", str(batch))


def billing_figures(portal: Portal, services: int, notes: str = "") -> Figures:
    """Periods billed twice, due services not billed, invoice numbers skipped."""
    twice = portal.scalar(
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM invoice_line "
        "WHERE service_id IS NOT NULL AND period_start = DATE '2026-12-01' "
        "GROUP BY service_id, period_start) AS lines WHERE n > 1"
    )
    billed = portal.scalar(
        "SELECT count(DISTINCT service_id) FROM invoice_line WHERE period_start = DATE '2026-12-01'"
    )
    gaps = portal.scalar(
        "SELECT coalesce(sum(top - n), 0) FROM (SELECT max(sequence) AS top, "
        "count(DISTINCT sequence) AS n FROM invoice WHERE sequence IS NOT NULL "
        "GROUP BY series) AS numbers"
    )
    return Figures(int(twice), services - int(billed), int(gaps), notes)


def wait_for_invoices(portal: Portal, at_least: int, process: subprocess.Popen[bytes]) -> int:
    """Wait until ``at_least`` invoices are committed (or the run ends); how many there are."""
    while process.poll() is None:
        count = portal.scalar("SELECT count(*) FROM invoice")
        if count >= at_least:
            return int(count)
        time.sleep(0.05)
    return int(portal.scalar("SELECT count(*) FROM invoice"))


# --- the scenarios ---------------------------------------------------------------------------


def twice_in_a_row(portal: Portal, n: int) -> Figures:
    first = billing_run(portal).wait()
    second = billing_run(portal).wait()
    return billing_figures(portal, n, f"exit codes {first}, {second}")


def four_at_once(batch: int) -> Callable[[Portal, int], Figures]:
    def scenario(portal: Portal, n: int) -> Figures:
        runs = [billing_run(portal, batch) for _ in range(4)]
        codes = [run.wait() for run in runs]
        return billing_figures(portal, n, f"batch {batch}, exit codes {codes}")

    return scenario


def killed_mid_run(portal: Portal, n: int) -> Figures:
    run = billing_run(portal, 50)
    seen = wait_for_invoices(portal, max(1, n // 3), run)
    run.send_signal(signal.SIGKILL)
    run.wait()
    again = billing_run(portal, 50).wait()
    return billing_figures(portal, n, f"killed at {seen} invoices, rerun exit {again}")


def connections_cut(portal: Portal, n: int) -> Figures:
    run = billing_run(portal, 50)
    seen = wait_for_invoices(portal, max(1, n // 3), run)
    cut = portal.scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    first = run.wait()
    again = billing_run(portal, 50).wait()
    notes = f"{cut} connections cut at {seen} invoices, exit {first}, rerun exit {again}"
    return billing_figures(portal, n, notes)


def _pay_halves(
    url: str, instance: str, invoice_ids: list[int], first_half: bool, barrier: Any
) -> None:
    """A clerk paying half of each invoice; the other clerk's process pays the other half at
    the same instant (both read the invoice before either records)."""
    from portal.accounts.models import Client
    from portal.core.app import create_app
    from portal.core.extensions import db
    from portal.invoicing import payments
    from portal.invoicing.models import Invoice

    app = create_app({"database_url": url, "secret_key": "faults"}, instance_path=instance)
    with app.app_context():
        for invoice_id in invoice_ids:
            invoice = db.session.get(Invoice, invoice_id)
            client = db.session.get(Client, invoice.client_id)
            half = (invoice.total / 2).quantize(Decimal("0.01"))
            amount = half if first_half else invoice.total - half
            barrier.wait(120)
            payments.record_payment(
                client,
                amount=amount,
                method="bank",
                reference=f"{'A' if first_half else 'B'}-{invoice_id}",
                payment_date=invoice.issue_date,
                invoices=[invoice],
            )
            db.session.remove()


def payments_at_once(portal: Portal, n: int, payments: int) -> Figures:
    from portal.invoicing.money_check import check_money

    billing_run(portal).wait()
    ids = [
        int(row)
        for row in portal.scalar(
            f"SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM invoice ORDER BY id "
            f"LIMIT {payments}) AS chosen"
        )
    ]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [
        context.Process(
            target=_pay_halves, args=(portal.url, str(portal.tmp / f"w{i}"), ids, i == 0, barrier)
        )
        for i in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    overpaid = portal.scalar(
        "SELECT count(*) FROM invoice WHERE amount_paid > total OR id IN (SELECT invoice_id "
        "FROM payment_allocation GROUP BY invoice_id HAVING sum(amount) > (SELECT total FROM "
        "invoice i WHERE i.id = invoice_id))"
    )
    unpaid = set(
        portal.scalar(
            f"SELECT coalesce(array_agg(id), '{{}}') FROM invoice "
            f"WHERE id IN ({','.join(map(str, ids))}) AND status <> 'paid'"
        )
    )
    report = check_money()
    lost = unpaid | {drift.invoice_id for drift in report.invoice_drift}
    codes = [worker.exitcode for worker in workers]
    notes = (
        f"{len(ids)} invoices, {len(report.invoice_drift)} disagree with their payments, "
        f"{len(unpaid)} not paid, exit codes {codes}"
    )
    return Figures(int(overpaid), len(lost), "-", notes)


def hand_then_statement(portal: Portal, n: int, count: int) -> Figures:
    """Each client owes two invoices of the same amount (two months); staff record a bank
    payment by hand against the first, then the statement with that payment order is imported.
    Half the orders name the invoice in their purpose, half carry only the payer's INN."""
    from sqlalchemy import select, text

    from portal.accounts.models import Client
    from portal.core.extensions import db
    from portal.invoicing import payments
    from portal.invoicing.models import Invoice
    from portal.testing.bank import incoming, onec_statement

    billing_run(portal).wait()
    billing_run(portal, as_of=NEXT_MONTH).wait()
    db.session.execute(text("UPDATE client SET inn = lpad(id::text, 10, '7')"))
    db.session.commit()
    chosen = db.session.scalars(
        select(Invoice)
        .where(Invoice.id.in_(select(db.func.min(Invoice.id)).group_by(Invoice.client_id)))
        .order_by(Invoice.id)
        .limit(count)
    ).all()
    orders = []
    for number, invoice in enumerate(chosen, start=1000):
        client = db.session.get(Client, invoice.client_id)
        # what staff type into "Record a payment": the payment order's number
        payments.record_payment(
            client,
            amount=invoice.total,
            method="bank",
            reference=str(number),
            payment_date=datetime(2026, 12, 2).date(),
            invoices=[invoice],
        )
        purpose = f"Оплата по счету № {invoice.number}" if number % 2 else "Оплата услуг"
        # the order is dated the day before the money arrived (02.12, the statement's day)
        orders.append(
            incoming(
                str(number),
                f"{invoice.total:.2f}",
                purpose,
                inn=client.inn,
                day="01.12.2026",
                **{"ДатаПоступило": "02.12.2026"},
            )
        )
    statement = portal.tmp / "statement.txt"
    statement.write_bytes(onec_statement(*orders, day="02.12.2026"))
    code = portal.run("billing", "import-statement", str(statement))
    twice = int(
        portal.scalar(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM payment "
            "WHERE kind = 'payment' GROUP BY client_id, amount) AS same WHERE n > 1"
        )
    )
    queued = int(portal.scalar("SELECT count(*) FROM unmatched_payment"))
    paid = int(portal.scalar("SELECT count(DISTINCT client_id) FROM payment"))
    notes = (
        f"{len(chosen)} orders: {twice} recorded twice, {queued} already recorded but queued "
        f"to link by hand (a second payment once linked); import exit {code}"
    )
    return Figures(twice + queued, len(chosen) - paid, "-", notes)


class SlowMailbox:
    """An aiosmtpd handler that takes ``delay`` seconds over each message and keeps their
    Message-IDs."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes

        await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content)
        self.ids.append((message["Message-ID"] or "").strip().strip("<>"))
        return "250 OK"


@contextmanager
def smtp_server(port: int, delay: float) -> Iterator[SlowMailbox]:
    from aiosmtpd.controller import Controller

    mailbox = SlowMailbox(delay)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mail_figures(portal: Portal, mailbox: SlowMailbox, notes: str) -> Figures:
    from sqlalchemy import select

    from portal.core.extensions import db
    from portal.messaging.models.outbox import OutboundMessage

    db.session.rollback()
    queued = [row.strip("<>") for row in db.session.scalars(select(OutboundMessage.message_id))]
    received = Counter(mailbox.ids)
    twice = sum(count - 1 for count in received.values() if count > 1)
    lost = sum(1 for message_id in queued if message_id not in received)
    return Figures(twice, lost, "-", f"{len(queued)} queued, {len(mailbox.ids)} received; {notes}")


def pending_mail(portal: Portal) -> int:
    return int(portal.scalar("SELECT count(*) FROM outbound_message WHERE status <> 'sent'"))


def make_due(portal: Portal) -> None:
    """The retry backoff elapses: every unsent message is due now."""
    portal.scalar(
        "WITH due AS (UPDATE outbound_message SET next_attempt_at = now() - interval '1 second' "
        "WHERE status <> 'sent' RETURNING 1) SELECT count(*) FROM due"
    )
    from portal.core.extensions import db

    db.session.commit()


def slow_smtp(portal: Portal, n: int) -> Figures:
    billing_run(portal).wait()
    rounds = 0
    with smtp_server(int(portal.settings["smtp_port"]), delay=0.3) as mailbox:
        while pending_mail(portal) and rounds < 6:
            rounds += 1
            senders = [
                portal.start("jobs", "run", "mail.send"),
                portal.start("mail", "send", "--limit", "1000"),
            ]
            for sender in senders:
                sender.wait()
            make_due(portal)  # a message left to retry is not "lost" for waiting its backoff
        return mail_figures(portal, mailbox, f"{rounds} rounds of job + command at once")


def dead_smtp(portal: Portal, n: int) -> Figures:
    billing_run(portal).wait()
    down = portal.run("mail", "send", "--limit", "1000")
    make_due(portal)
    rounds = 0
    with smtp_server(int(portal.settings["smtp_port"]), delay=0) as mailbox:
        while pending_mail(portal) and rounds < 6:
            rounds += 1
            portal.run("mail", "send", "--limit", "1000")
            make_due(portal)
        return mail_figures(portal, mailbox, f"send while down exit {down}, {rounds} rounds after")


def _sleeps() -> list[int]:
    """Processes running the hanging command."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args[:2] == [b"sleep", HANG.encode()]:
            found.append(int(entry.name))
    return found


def hanging_command(portal: Portal, n: int, limit: int) -> Figures:
    from sqlalchemy import select, update

    from portal.catalog.models import Product, ProductGroup
    from portal.core.extensions import db
    from portal.orders import provisioning
    from portal.orders.models import Service
    from portal.orders.provisioners import ProvisioningAction
    from portal.platform import plugin_settings

    module = Product(group=ProductGroup(name="Диск"), name="Дисковая квота", module="diskspace")
    db.session.add(module)
    db.session.flush()
    services = db.session.scalars(select(Service).order_by(Service.id).limit(3)).all()
    db.session.execute(
        update(Service)
        .where(Service.id.in_([service.id for service in services]))
        .values(product_id=module.id)
    )
    db.session.expire_all()
    # The quota tool starts a helper and hangs, as the issue's did; its timeout is short so that
    # the run shows what a timeout leaves behind (the issue's `sleep 600` under PID 1).
    plugin_settings.save(
        "diskspace",
        {
            "backend": "command",
            "command": f"/bin/sh -c 'sleep {HANG} & exec sleep {HANG}'",
            "command_timeout": COMMAND_TIMEOUT,
        },
    )
    for service in services:
        provisioning.queue(db.session.get(Service, service.id), ProvisioningAction.CREATE)
    db.session.commit()
    worker = portal.start("jobs", "run", "provisioning.run")
    deadline = time.monotonic() + 60
    while not _sleeps() and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    hanging = bool(_sleeps())
    started = time.monotonic()
    run = billing_run(portal)
    try:
        code: int | str = run.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        run.kill()
        code = f"killed after {limit} s"
    seconds = time.monotonic() - started
    # each command's timeout and the group's grace after SIGTERM, one after another, and a margin
    with contextlib.suppress(subprocess.TimeoutExpired):
        worker.wait(timeout=(COMMAND_TIMEOUT + 10) * len(services) + 30)
    finished = worker.poll() is not None
    orphans = _sleeps()  # left running after the timeouts (counted as lost)
    worker.send_signal(signal.SIGKILL)  # a worker still going, as an operator or systemd ends it
    worker.wait()
    for pid in _sleeps():  # they are this script's, through the worker it started
        os.kill(pid, signal.SIGKILL)
    notes = (
        f"command hanging: {hanging}; billing run {seconds:.1f} s, exit {code}; "
        f"provisioning job finished: {finished}; processes left after the command's "
        f"{COMMAND_TIMEOUT} s timeout: {len(orphans)}"
    )
    figures = billing_figures(portal, n, notes)
    return Figures(figures.duplicates, int(figures.lost) + len(orphans), figures.gaps, notes)


# --- running them ----------------------------------------------------------------------------

SCENARIOS: dict[str, tuple[str, Any]] = {
    "1": ("billing run twice in a row", twice_in_a_row),
    "2a": ("4 billing runs at once, batch 500", four_at_once(500)),
    "2b": ("4 billing runs at once, batch 50", four_at_once(50)),
    "3": ("billing run killed (SIGKILL), rerun", killed_mid_run),
    "4": ("connections terminated mid-run, rerun", connections_cut),
    "5": ("two payments of one invoice at once", payments_at_once),
    "6": ("payment by hand, then the statement", hand_then_statement),
    "7": ("slow SMTP, job and command at once", slow_smtp),
    "8": ("dead SMTP server, then back", dead_smtp),
    "9": ("hanging provisioning command", hanging_command),
}


def run_scenario(key: str, args: argparse.Namespace, seed: Callable[[int], None]) -> Figures:
    scenario = SCENARIOS[key][1]
    n = args.clients
    settings: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": free_port(),
        "smtp_timeout": 5,
        "mail_from": "billing@faults.test",
        "default_locale": "ru",
    }
    if key in ("7", "8"):
        n = min(n, args.mails)  # each message is a PDF rendered on delivery
    if key == "9":
        settings["plugins"] = ["diskspace"]
    with ExitStack() as stack:
        portal = Portal(stack, settings)
        seed(n)
        if key == "5":
            return scenario(portal, n, min(n, args.payments))
        if key == "6":
            return scenario(portal, n, min(n, args.orders))
        if key == "9":
            return scenario(portal, n, args.hang_limit)
        return scenario(portal, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000, help="clients (one service each)")
    parser.add_argument("--payments", type=int, default=500, help="invoices paid twice at once")
    parser.add_argument("--orders", type=int, default=200, help="payment orders in scenario 6")
    parser.add_argument("--mails", type=int, default=200, help="clients mailed in 7 and 8")
    parser.add_argument(
        "--hang-limit", type=int, default=120, help="seconds before a stuck run (9) is killed"
    )
    parser.add_argument("--only", default="", help="e.g. 1,2a,5 (default: all)")
    args = parser.parse_args()

    logging.disable(logging.INFO)  # the migrations' progress lines
    os.environ["PORTAL_TEST_DATABASE"] = "postgres"
    sys.path.insert(0, str(ROOT))
    from portal.testing.databases import postgres_answers

    if not postgres_answers():
        raise SystemExit("PostgreSQL does not answer (PORTAL_TEST_POSTGRES_URL)")
    seed = _bench_seed()
    chosen = [key for key in SCENARIOS if not args.only or key in args.only.split(",")]
    print(f"faults, PostgreSQL, {args.clients} clients ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    print(f"{'':4}{'scenario':<42}{'duplicates':>11}{'lost':>7}{'gaps':>7}  notes")
    for key in chosen:
        started = time.monotonic()
        try:
            figures = run_scenario(key, args, seed)
        except Exception as exc:  # one broken scenario must not hide the others' figures
            figures = Figures("?", "?", "?", f"scenario failed: {exc!r}"[:300])
        figures.notes += f" ({time.monotonic() - started:.0f} s)"
        print(
            f"{key:<4}{SCENARIOS[key][0]:<42}{figures.duplicates!s:>11}{figures.lost!s:>7}"
            f"{figures.gaps!s:>7}  {figures.notes}",
            flush=True,
        )


if __name__ == "__main__":
    main()
