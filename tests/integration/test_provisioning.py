"""The provisioning queue: commands queued where they are decided (first invoice paid, an
upgrade applied, staff changing the status), run once through the product's module, retried with
backoff, failed for staff to see without touching the payment, retried or marked done by staff,
and never run twice by concurrent workers."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from portal import hookimpl
from portal.accounts.models import AuditEntry
from portal.catalog.models import Addon, AddonPrice, Product
from portal.core.extensions import db
from portal.invoicing import payments
from portal.invoicing.models import Invoice, Payment
from portal.orders import orders, provisioning, service_changes
from portal.orders.models import Order, Service, ServiceAddon, ServiceStatus
from portal.orders.models.provisioning import ProvisioningAction, ProvisioningTask, TaskStatus
from portal.orders.orders import CartItem
from portal.orders.provisioners import (
    Provisioner,
    ProvisioningError,
    ProvisioningPending,
    provisioners,
)
from portal.orders.service_changes import ChangeRequest
from portal.platform import demo
from portal.testing.concurrency import billing_run
from portal.testing.factories import make_client, make_staff
from tests.plugins import exerciser

D = Decimal
TODAY = date(2026, 11, 2)


@dataclass
class Call:
    command: str
    service_id: int
    context: Any


class Box(Provisioner):
    """A module that records its commands; ``failure`` makes every command raise it."""

    name, label = "testbox", "Test box"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failure: Exception | None = None

    def _record(self, command: str, service: Service, context: Any) -> None:
        if self.failure is not None:
            raise self.failure
        self.calls.append(Call(command, service.id, context))

    def create(self, service, context) -> None:
        self._record("create", service, context)

    def suspend(self, service, context) -> None:
        self._record("suspend", service, context)

    def change_package(self, service, context) -> None:
        self._record("change_package", service, context)


class BoxPlugin:
    def __init__(self, *boxes: Provisioner) -> None:
        self.boxes = list(boxes)

    @hookimpl
    def register_provisioners(self) -> list[Provisioner]:
        return self.boxes


@contextlib.contextmanager
def installed(make_app, module: Provisioner) -> Iterator[Box]:  # type: ignore[no-untyped-def]
    """An app with ``module`` installed as "testbox", which the demo catalogue's users product
    uses; yields a Box holding that catalogue (the module itself when it is a Box)."""
    app: Flask = make_app(extra_plugins=(BoxPlugin(module),))
    with app.app_context():
        products = demo.load_demo_catalogue()
        products[demo.USERS_PRODUCT].module = "testbox"
        db.session.commit()
        holder = module if isinstance(module, Box) else Box()
        holder.products = products
        yield holder


@pytest.fixture
def box(make_app) -> Any:
    """An app with the test module installed; the demo catalogue's users product uses it."""
    with installed(make_app, Box()) as found:
        yield found


def users_item(box: Box, count: int = 5, addon_ids: tuple[int, ...] = ()) -> CartItem:
    product = box.products[demo.USERS_PRODUCT]
    return CartItem(product.id, "semi_annual", {product.options[0].id: count}, addon_ids)


def accepted(clock, item: CartItem) -> Order:
    client = make_client(clock)
    order = orders.place_order(client, [item], today=TODAY)
    return orders.accept_order(order, today=TODAY)


def pay(invoice: Invoice, reference: str) -> Payment:
    return payments.record_payment(
        invoice_client(invoice),
        amount=invoice.balance,
        method="bank",
        reference=reference,
        payment_date=TODAY,
        invoices=[invoice],
    )


def invoice_client(invoice: Invoice) -> Any:
    from portal.accounts.models import Client

    return db.session.get(Client, invoice.client_id)


def tasks() -> list[ProvisioningTask]:
    return list(db.session.scalars(select(ProvisioningTask).order_by(ProvisioningTask.id)))


def paid_service(box: Box, clock, reference: str = "п/п 1", **item: Any) -> Service:
    order = accepted(clock, users_item(box, **item))
    pay(db.session.get(Invoice, order.invoice_id), reference)
    return db.session.get(Service, order.items[0].service_id)


def test_a_paid_first_invoice_creates_the_service_once(box, clock) -> None:
    order = accepted(clock, users_item(box))
    service = db.session.get(Service, order.items[0].service_id)
    assert tasks() == []  # nothing is provisioned before the first invoice is paid
    service.status = ServiceStatus.PENDING  # as a service waiting for its module looks
    db.session.commit()

    invoice = db.session.get(Invoice, order.invoice_id)
    pay(invoice, "п/п 1")
    [task] = tasks()
    assert (task.action, task.module, task.status) == (
        ProvisioningAction.CREATE,
        "testbox",
        TaskStatus.QUEUED,
    )
    payments.refund(db.session.scalar(select(Payment)), D("1.00"), to_credit=True)
    payments.apply_credit(invoice)  # paid again: still one CREATE
    assert len(tasks()) == 1

    report = provisioning.run_due(clock.now())
    assert (report.done, report.retried, report.failed) == (1, 0, 0)
    assert [(c.command, c.service_id) for c in box.calls] == [("create", service.id)]
    assert box.calls[0].context.attempt == 1 and box.calls[0].context.service_addon is None
    db.session.expire_all()
    assert service.status is ServiceStatus.ACTIVE and service.provisioning_status == ""
    assert task.status is TaskStatus.DONE and task.finished_at == clock.now()
    assert provisioning.run_due(clock.now() + timedelta(hours=1)).done == 0
    assert len(box.calls) == 1


def test_nothing_to_pay_provisions_at_acceptance(box, clock) -> None:
    client = make_client(clock)
    order = orders.place_order(client, [users_item(box)], today=TODAY, generate_invoice=False)
    orders.accept_order(order, today=TODAY)
    [task] = tasks()
    assert task.action is ProvisioningAction.CREATE and order.invoice_id is None
    provisioning.run_due(clock.now())
    assert [c.command for c in box.calls] == ["create"]


def test_products_without_a_module_queue_nothing(box, clock) -> None:
    disk = box.products[demo.DISK_PRODUCT]
    disk.module = None
    db.session.commit()
    order = accepted(clock, CartItem(disk.id, "monthly", {disk.options[0].id: 2}))
    pay(db.session.get(Invoice, order.invoice_id), "п/п 9")
    assert tasks() == []


def test_a_failing_module_is_retried_with_backoff_then_fails_for_staff(box, clock) -> None:
    box.failure = ProvisioningError("panel.example.com refused the login")
    service = paid_service(box, clock)
    invoice = db.session.scalar(select(Invoice))
    paid = (invoice.status, invoice.amount_paid, invoice.paid_date)
    [task] = tasks()
    start = clock.now()
    for attempt in range(1, provisioning.MAX_ATTEMPTS):
        report = provisioning.run_due(clock.now())
        assert report.retried == 1 and report.errors
        db.session.refresh(task)
        pause = timedelta(minutes=2 ** (attempt - 1))
        assert (task.status, task.attempts) == (TaskStatus.QUEUED, attempt)
        assert task.next_attempt_at == clock.now() + pause
        assert task.last_error == "panel.example.com refused the login"
        assert provisioning.run_due(clock.now() + pause - timedelta(seconds=1)).retried == 0
        clock.advance(pause)
    assert clock.now() - start == timedelta(minutes=1 + 2 + 4 + 8)

    assert provisioning.run_due(clock.now()).failed == 1
    db.session.expire_all()
    assert (task.status, task.attempts) == (TaskStatus.FAILED, provisioning.MAX_ATTEMPTS)
    assert service.provisioning_status == "failed"
    assert service.provisioning_error == "panel.example.com refused the login"
    assert service.status is ServiceStatus.ACTIVE
    assert (invoice.status, invoice.amount_paid, invoice.paid_date) == paid
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    assert provisioning.failed_count() == 1
    clock.advance(timedelta(days=1))
    assert provisioning.run_due(clock.now()).failed == 0  # a failed task waits for staff

    staff = make_staff(clock)
    box.failure = None
    provisioning.retry(task, staff)
    assert (task.status, task.attempts, task.next_attempt_at) == (
        TaskStatus.QUEUED,
        0,
        clock.now(),
    )
    assert provisioning.run_due(clock.now()).done == 1
    db.session.expire_all()
    assert task.status is TaskStatus.DONE and service.provisioning_status == ""
    assert service.provisioning_error == "" and provisioning.failed_count() == 0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "provisioning.retry"))
    assert entry.entity_id == str(task.id) and entry.client_id == service.client_id
    with pytest.raises(provisioning.ProvisioningQueueError):
        provisioning.retry(task, staff)  # a done task is not run again


def test_any_exception_fails_the_attempt_with_its_text(box, clock) -> None:
    box.failure = KeyError("quota")
    paid_service(box, clock)
    provisioning.run_due(clock.now())
    [task] = tasks()
    assert task.last_error == "KeyError: 'quota'" and task.status is TaskStatus.QUEUED


def test_staff_mark_a_failed_command_done(box, clock) -> None:
    box.failure = ProvisioningError("no free IP address")
    service = paid_service(box, clock)
    [task] = tasks()
    for _ in range(provisioning.MAX_ATTEMPTS):
        provisioning.run_due(clock.now())
        clock.advance(provisioning.BACKOFF_MAX)
    db.session.expire_all()
    assert task.status is TaskStatus.FAILED and service.provisioning_status == "failed"

    staff = make_staff(clock)
    provisioning.mark_done(task, staff)
    db.session.expire_all()
    assert (task.status, task.finished_by, task.finished_at) == (
        TaskStatus.DONE,
        staff.full_name,
        clock.now(),
    )
    assert service.provisioning_status == "" and service.provisioning_error == ""
    assert db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "provisioning.mark_done")
    )
    with pytest.raises(provisioning.ProvisioningQueueError, match="failed or waiting"):
        provisioning.mark_done(task, staff)


def test_an_unknown_module_fails_with_a_clear_message(box, clock) -> None:
    box.products[demo.USERS_PRODUCT].module = "vmware"
    db.session.commit()
    paid_service(box, clock)
    provisioning.run_due(clock.now())
    [task] = tasks()
    assert task.last_error == "module vmware is not installed or not enabled"


def test_an_upgrade_paid_changes_the_package(box, clock) -> None:
    service = paid_service(box, clock, count=5)
    provisioning.run_due(clock.now())
    option = service.product.options[0].id
    change = service_changes.confirm(
        service, ChangeRequest(options={option: 6}), today=date(2026, 12, 1)
    )
    assert len(tasks()) == 1  # not before the change's invoice is paid
    pay(db.session.get(Invoice, change.invoice_id), "п/п 2")
    task = tasks()[-1]
    assert (task.action, task.dedupe_key) == (
        ProvisioningAction.CHANGE_PACKAGE,
        f"change:{change.id}",
    )

    provisioning.run_due(clock.now())
    call = box.calls[-1]
    assert (call.command, call.service_id) == ("change_package", service.id)
    context = call.context
    users = box.products[demo.USERS_PRODUCT]
    assert context.old_product.id == context.new_product.id == users.id
    assert (context.old_cycle, context.new_cycle) == ("semi_annual", "semi_annual")
    assert (dict(context.old_options), dict(context.new_options)) == ({option: 5}, {option: 6})


class Handover(Provisioner):
    """A module that hands the work to people: it notes the request on the service (a write
    followed by a commit, as opening a ticket does) and is pending until ``done`` is set; with
    ``failure`` it writes and then raises."""

    name = "testbox"

    def __init__(self) -> None:
        self.done = False
        self.failure: Exception | None = None

    def create(self, service, context) -> None:
        if self.failure is not None:
            service.admin_notes = "half-done"
            raise self.failure
        if not service.admin_notes:
            service.admin_notes = "asked the admins"
            db.session.commit()  # a service that owns its transaction, e.g. open_ticket
        if not self.done:
            raise ProvisioningPending("waiting for the admins", timedelta(minutes=10))


def test_a_pending_module_waits_without_using_up_its_retries(make_app, clock) -> None:
    module = Handover()
    with installed(make_app, module) as box:
        service = paid_service(box, clock)
        [task] = tasks()
        for _check in range(provisioning.MAX_ATTEMPTS + 2):
            report = provisioning.run_due(clock.now())
            assert (report.done, report.waiting, report.retried, report.failed) == (0, 1, 0, 0)
            db.session.expire_all()
            assert (task.status, task.last_error) == (TaskStatus.QUEUED, "waiting for the admins")
            assert task.next_attempt_at == clock.now() + timedelta(minutes=10)
            assert provisioning.run_due(clock.now() + timedelta(minutes=9)).waiting == 0
            clock.advance(timedelta(minutes=10))
        assert service.admin_notes == "asked the admins"  # the module's writes are kept
        assert service.provisioning_status == ""

        module.failure = ProvisioningError("panel down")  # a failure after waiting is retried
        assert provisioning.run_due(clock.now()).retried == 1
        db.session.expire_all()
        assert task.status is TaskStatus.QUEUED and service.admin_notes == "asked the admins"

        module.failure = None
        module.done = True
        clock.advance(provisioning.BACKOFF_MAX)
        assert provisioning.run_due(clock.now()).done == 1
        db.session.expire_all()
        assert task.status is TaskStatus.DONE and service.status is ServiceStatus.ACTIVE


@pytest.fixture
def addons(box) -> tuple[Addon, Addon]:
    """The demo backup add-on (activated with its parent) and a manual one."""
    backup = db.session.scalar(select(Addon).where(Addon.name == demo.DEMO_ADDON[0]))
    manual = Addon(name="Перенос базы", activate_with_parent=False)
    manual.prices = [AddonPrice(currency="RUB", cycle="semi_annual", price=D("1000.00"))]
    manual.products = [box.products[demo.USERS_PRODUCT]]
    db.session.add(manual)
    db.session.commit()
    return backup, manual


def test_add_ons_activated_with_the_parent_are_created_after_it(box, clock, addons) -> None:
    backup, manual = addons
    box.failure = ProvisioningError("panel down")
    service = paid_service(box, clock, addon_ids=(backup.id, manual.id))
    parent, child = tasks()  # the manual add-on is not provisioned
    held = db.session.scalar(select(ServiceAddon).where(ServiceAddon.addon_id == backup.id))
    assert (parent.service_addon_id, child.service_addon_id) == (None, held.id)

    provisioning.run_due(clock.now())
    db.session.expire_all()
    assert (parent.attempts, child.attempts) == (1, 0)  # the add-on waits for its parent

    box.failure = None
    assert provisioning.run_due(clock.now() + timedelta(minutes=1)).done == 2
    assert [(c.command, c.service_id) for c in box.calls] == [
        ("create", service.id),
        ("create", service.id),
    ]
    assert box.calls[0].context.service_addon is None
    assert box.calls[1].context.service_addon.addon_id == backup.id


def test_an_add_on_bought_later_is_created_when_paid(box, clock, addons) -> None:
    backup, _ = addons
    service = paid_service(box, clock)
    provisioning.run_due(clock.now())
    held = service_changes.order_addon(service, backup.id, today=date(2026, 12, 1))
    assert len(tasks()) == 1
    order = db.session.get(Order, held.order_id)
    pay(db.session.get(Invoice, order.invoice_id), "п/п 3")
    task = tasks()[-1]
    assert (task.action, task.service_addon_id) == (ProvisioningAction.CREATE, held.id)


def test_staff_status_changes_reach_the_module(make_app, clock) -> None:
    """The exerciser plugin's module: suspend and unsuspend run, terminate (which it does not
    implement) counts as done."""
    other: Flask = make_app(extra_plugins=(exerciser,))
    with other.app_context():
        assert isinstance(provisioners()["exerciser"], exerciser.ExerciserProvisioner)
        products = demo.load_demo_catalogue()
        products[demo.USERS_PRODUCT].module = "exerciser"
        db.session.commit()
        product = products[demo.USERS_PRODUCT]
        order = accepted(clock, CartItem(product.id, "semi_annual", {product.options[0].id: 1}))
        pay(db.session.get(Invoice, order.invoice_id), "п/п 4")
        service = db.session.get(Service, order.items[0].service_id)
        exerciser.COMMANDS.clear()
        for status in ("suspended", "active", "terminated"):
            service_changes.update_service(service, {"status": status})
        service_changes.update_service(service, {"admin_notes": "no status change"})
        assert [t.action for t in tasks()] == [
            ProvisioningAction.CREATE,
            ProvisioningAction.SUSPEND,
            ProvisioningAction.UNSUSPEND,
            ProvisioningAction.TERMINATE,
        ]
        assert provisioning.run_due(clock.now()).done == 4
        ran = list(exerciser.COMMANDS)
        assert ran == [("create", service.id), ("suspend", service.id), ("unsuspend", service.id)]
        assert all(t.status is TaskStatus.DONE for t in tasks())


def test_the_queue_is_a_scheduled_job(box, clock) -> None:
    from portal.platform.jobs.registry import jobs
    from portal.platform.jobs.runs import run_job

    paid_service(box, clock)
    job = jobs()["provisioning.run"]
    assert job.schedule == "* * * * *"
    run = run_job(job.id, job.run, TODAY)
    assert run.counts == {"done": 1, "retried": 0, "failed": 0, "waiting": 0}


def test_a_claimed_task_is_not_taken_by_a_second_worker(box, clock) -> None:
    from portal.orders.provisioning import CLAIM_LEASE, _claim

    paid_service(box, clock)
    [task] = tasks()
    assert _claim(clock.now(), 10) == [task.id]  # a worker claimed it and is busy
    assert _claim(clock.now(), 10) == []
    db.session.refresh(task)
    assert task.status is TaskStatus.RUNNING
    assert provisioning.run_due(clock.now()).done == 0
    clock.advance(CLAIM_LEASE)  # the worker died: after the lease another one runs it
    assert provisioning.run_due(clock.now()).done == 1
    assert len(box.calls) == 1


class BuiltinBox:
    """Registered the way built-ins are (``trylast``): a plugin's module of the name wins."""

    @hookimpl(trylast=True)
    def register_provisioners(self) -> list[Provisioner]:
        builtin = Box()
        builtin.label = "Built-in box"
        return [builtin]


def test_a_plugin_module_overrides_a_built_in_one_and_defaults_are_safe(make_app) -> None:
    from portal.billing import Period

    plugin_box = Box()
    other: Flask = make_app(extra_plugins=(BuiltinBox(), BoxPlugin(plugin_box)))
    with other.app_context():
        assert provisioners()["testbox"] is plugin_box
        period = Period(date(2026, 10, 1), date(2026, 11, 1))
        assert plugin_box.usage(Service(), period) == []
        assert plugin_box.test_connection({}) == "Test box has no connection to test."
    nameless = make_app(extra_plugins=(BoxPlugin(Provisioner()),))
    with nameless.app_context(), pytest.raises(ValueError, match="has no name"):
        provisioners()


# --- several workers at once (PostgreSQL) --------------------------------------------------------


class SlowLog(Provisioner):
    """Appends the service id to a file, slowly, so that workers overlap."""

    name = "testbox"

    def __init__(self, path: str) -> None:
        self.path = path

    def create(self, service, context) -> None:
        time.sleep(0.1)
        with open(self.path, "a") as log:
            log.write(f"{service.id}\n")


def run_worker(database_url: str, instance_path: str, log_path: str, now: str, n: int) -> int:
    """One worker process: its own app and connections; starts when all four are ready."""
    from portal.core.app import create_app

    app = create_app(
        {"database_url": database_url, "secret_key": "workers", "plugins": []},
        instance_path=instance_path,
        extra_plugins=(BoxPlugin(SlowLog(log_path)),),
    )
    ready = Path(log_path).parent
    (ready / f"ready{n}").touch()
    deadline = time.monotonic() + 60
    while len(list(ready.glob("ready*"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    with app.app_context():
        return provisioning.run_due(datetime.fromisoformat(now), limit=100).done


@pytest.mark.postgres_only
def test_four_workers_run_each_task_once(box, clock, portal_database_url, tmp_path: Path) -> None:
    from portal.testing.concurrency import run_in_processes

    for n in range(12):
        paid_service(box, clock, reference=f"п/п {n}")
    log = tmp_path / "calls.log"
    args = [
        (portal_database_url, str(tmp_path / f"w{n}"), str(log), clock.now().isoformat(), n)
        for n in range(4)
    ]
    done = run_in_processes(run_worker, args)

    assert sum(done) == 12 and len(done) == 4
    ran = log.read_text().split()
    assert len(ran) == 12 and len(set(ran)) == 12
    db.session.expire_all()
    assert all(t.status is TaskStatus.DONE and t.attempts == 1 for t in tasks())


# --- nothing held while a command runs (issue #14) -----------------------------------------------

WORKER = "provisioning-worker"


class HangingPanel(Provisioner):
    """A panel module the way they are written: it records the account it creates on the
    service, reads something (its settings), then runs a program that hangs, under a timeout.
    The program writes its pid to ``pid_file`` first; the test ends it once it has seen what it
    needs (its timeout is far beyond any process start-up on a loaded machine)."""

    name = "testbox"

    def __init__(self, pid_file: str) -> None:
        self.pid_file = pid_file

    def change_package(self, service, context) -> None:
        service.username = f"box{service.id}"
        db.session.scalar(select(Product.module).where(Product.id == service.product_id))
        subprocess.run(  # a plain subprocess: the queue, not the helper, must hold nothing
            ["sh", "-c", f"echo $$ > {self.pid_file}; exec sleep 300"], timeout=240, check=True
        )


def run_hanging_worker(database_url: str, instance_path: str, pid_file: str, now: str) -> None:
    """A worker process running the queue with ``HangingPanel``; its connections are named
    ``WORKER`` on PostgreSQL so the test can look at its locks."""
    from sqlalchemy.engine import make_url

    from portal.core.app import create_app

    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        database_url = url.update_query_dict({"application_name": WORKER}).render_as_string(
            hide_password=False
        )
    app = create_app(
        {"database_url": database_url, "secret_key": "workers", "plugins": []},
        instance_path=instance_path,
        extra_plugins=(BoxPlugin(HangingPanel(pid_file)),),
    )
    with app.app_context():
        provisioning.run_due(datetime.fromisoformat(now))


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its parent is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def worker_locks() -> list[tuple[str, str, str | None]]:
    """PostgreSQL: the locks the worker's connections hold (lock type, mode, relation)."""
    rows = db.session.execute(
        text(
            "SELECT l.locktype, l.mode, c.relname FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "LEFT JOIN pg_class c ON c.oid = l.relation "
            "WHERE a.application_name = :name AND l.granted"
        ),
        {"name": WORKER},
    )
    db.session.rollback()
    return [tuple(row) for row in rows]


def _start_hanging_worker(context, database_url: str, tmp_path: Path, pid_file: Path, clock):  # type: ignore[no-untyped-def]
    """A provisioning worker in a process of its own whose module's command hangs."""
    worker = context.Process(
        target=run_hanging_worker,
        args=(database_url, str(tmp_path / "w"), str(pid_file), clock.now().isoformat()),
    )
    worker.start()
    return worker


def _wait_for_command(worker, pid_file: Path) -> None:  # type: ignore[no-untyped-def]
    """Until the worker's command has started (it writes its pid)."""
    deadline = time.monotonic() + 600
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert worker.is_alive() and time.monotonic() < deadline, "the command never started"
        time.sleep(0.05)


def test_a_billing_run_completes_while_a_provisioning_command_hangs(
    box, clock, portal_database_url, tmp_path: Path
) -> None:
    """A module's command hangs (up to its timeout) on a service the billing run renews. The
    run must not wait for it: the command runs with no transaction open, and what the module
    changed is written with the result afterwards."""
    service = paid_service(box, clock)
    assert provisioning.run_due(clock.now()).done == 1  # created, active
    due = service.next_due_date
    provisioning.queue(service, ProvisioningAction.CHANGE_PACKAGE, payload={})
    db.session.commit()
    pid_file = tmp_path / "command.pid"
    context = multiprocessing.get_context("spawn")
    worker = _start_hanging_worker(context, portal_database_url, tmp_path, pid_file, clock)
    command_pid = 0
    try:
        _wait_for_command(worker, pid_file)
        command_pid = int(pid_file.read_text())
        if db.engine.dialect.name == "postgresql":
            held = worker_locks()
            assert not [lock for lock in held if lock[0] == "transactionid"], held
            assert {lock[1] for lock in held if lock[0] == "relation"} <= {"AccessShareLock"}

        billing = context.Process(
            target=billing_run, args=(portal_database_url, str(tmp_path / "b"), due.isoformat())
        )
        billing.start()
        billing.join(600)
        assert billing.exitcode == 0
        assert running(command_pid)  # the run did not wait for the command to end
    finally:
        if command_pid:
            with contextlib.suppress(ProcessLookupError):  # fails: the worker records it
                os.kill(command_pid, signal.SIGKILL)
        worker.join(600)
    assert worker.exitcode == 0

    db.session.expire_all()
    renewed = db.session.get(Service, service.id)
    assert renewed.next_due_date > due  # the billing run's change, not undone by the result
    renewal = db.session.scalars(
        select(Invoice).where(Invoice.client_id == renewed.client_id).order_by(Invoice.id.desc())
    ).first()
    assert renewal.lines[0].period_start == due
    task = tasks()[-1]
    assert (task.status, task.attempts) == (TaskStatus.QUEUED, 1)  # failed once, to be retried
    assert "CalledProcessError" in task.last_error
    assert renewed.username != f"box{service.id}"  # the module's change went with its failure


class Overtaken(Provisioner):
    """A command so slow that its lease ends: meanwhile another worker claims the task."""

    name = "testbox"

    def __init__(self) -> None:
        self.calls = 0

    def create(self, service, context) -> None:
        self.calls += 1
        if self.calls == 1:
            from portal.orders.provisioning import CLAIM_LEASE, _claim

            later = clock_now() + CLAIM_LEASE + timedelta(minutes=1)  # the lease has ended
            assert _claim(later, 1) == [context.task_id]
        service.username = f"run{self.calls}"


def clock_now() -> datetime:
    from portal.core.app_state import clock

    return clock().now()


def test_a_result_after_the_lease_ended_is_dropped(make_app, clock) -> None:
    """The lease ended while the command ran and another worker took the task: the late
    result is not recorded over the other worker's claim (the task ran twice, as the lease
    allows, but it is recorded once, by the worker that holds it)."""
    panel = Overtaken()
    with installed(make_app, panel) as box:
        service = paid_service(box, clock)

        report = provisioning.run_due(clock.now())

        assert (report.done, report.failed, report.retried) == (0, 0, 0)
        db.session.expire_all()
        [task] = tasks()
        assert (task.status, task.attempts) == (TaskStatus.RUNNING, 2)  # the other worker's
        assert not db.session.get(Service, service.id).username  # the late result's change

        from portal.orders.provisioning import CLAIM_LEASE

        clock.advance(CLAIM_LEASE * 3)  # that worker died too: the task runs again, once more
        assert provisioning.run_due(clock.now()).done == 1
        db.session.expire_all()
        assert db.session.get(Service, service.id).username == "run2"
        assert tasks()[0].status is TaskStatus.DONE


def test_a_task_whose_worker_died_mid_command_is_run_after_the_lease(
    box, clock, portal_database_url, tmp_path: Path
) -> None:
    """The worker is killed (no cleanup) while its command runs: the task stays claimed until
    the lease ends, then another worker runs it; the dead worker's changes were never written."""
    service = paid_service(box, clock)
    assert provisioning.run_due(clock.now()).done == 1
    provisioning.queue(service, ProvisioningAction.CHANGE_PACKAGE, payload={})
    db.session.commit()
    pid_file = tmp_path / "command.pid"
    context = multiprocessing.get_context("spawn")
    worker = _start_hanging_worker(context, portal_database_url, tmp_path, pid_file, clock)
    try:
        _wait_for_command(worker, pid_file)
    finally:
        worker.kill()
        worker.join(60)
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)

    db.session.expire_all()
    task = tasks()[-1]
    assert task.status is TaskStatus.RUNNING
    assert provisioning.run_due(clock.now()).done == 0  # still claimed by the dead worker
    from portal.orders.provisioning import CLAIM_LEASE

    clock.advance(CLAIM_LEASE + timedelta(minutes=1))
    assert provisioning.run_due(clock.now()).done == 1
    db.session.expire_all()
    assert (tasks()[-1].status, tasks()[-1].attempts) == (TaskStatus.DONE, 2)
    assert [call.command for call in box.calls] == ["create", "change_package"]
    assert not db.session.get(Service, service.id).username


class HourLong(Provisioner):
    """Each command takes an hour (of a stand-in monotonic clock)."""

    name = "testbox"

    def __init__(self, elapsed: list[float]) -> None:
        self.elapsed = elapsed

    def create(self, service, context) -> None:
        self.elapsed[0] += 3600


def test_a_task_claimed_late_in_a_long_run_gets_a_whole_lease(make_app, clock, monkeypatch):
    """Three commands of an hour each in one run: the third is claimed two hours after the run
    began, and its lease runs from then, so no other worker takes it while it runs."""
    from portal.orders.provisioning import CLAIM_LEASE

    elapsed = [0.0]
    monkeypatch.setattr(provisioning, "monotonic", lambda: elapsed[0])
    panel = HourLong(elapsed)
    with installed(make_app, panel) as box:
        for n in range(3):
            paid_service(box, clock, reference=f"п/п {n}")
        claims = []
        real_claim = provisioning._claim

        def claim(now: datetime, limit: int) -> list[int]:
            claims.append(now)
            return real_claim(now, limit)

        monkeypatch.setattr(provisioning, "_claim", claim)
        start = clock.now()
        assert provisioning.run_due(start).done == 3
        hour = timedelta(hours=1)
        assert claims == [start, start + hour, start + 2 * hour, start + 3 * hour]
        db.session.expire_all()
        third = tasks()[-1]
        assert third.next_attempt_at == start + 2 * hour + CLAIM_LEASE  # not start + lease
