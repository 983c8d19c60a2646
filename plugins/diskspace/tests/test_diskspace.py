"""The disk-space module end to end, through the portal's own services and the plugin's entry
point: an order of 2 packages provisioned by both backends, an upgrade to 3 packages mid-period
(prorated, co-terminated, the backend gets 15 GB when it is paid), usage over the quota billed
on the next renewal invoice, writing blocked after the grace days, suspension and termination
reaching the backend, the report and the settings form."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from portal_diskspace.models import DiskRequest, DiskUsage
from portal_diskspace.provisioner import DiskSpace
from portal_diskspace.settings import DiskSpaceSettings
from portal_diskspace.usage import OVER_QUOTA, collect_daily
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.plugin_api import (
    Client,
    Invoice,
    Product,
    ProductType,
    ProvisioningAction,
    ProvisioningError,
    Service,
    ServiceStatus,
    Ticket,
    plugin_settings,
    record_payment,
    session,
)
from portal.testing import actions
from portal.testing.actions import ProvisioningTask, TaskStatus
from portal.testing.factories import make_client, make_department, make_staff
from portal.testing.processes import alive

D = Decimal
GB = 1024**3
BOUGHT = date(2026, 11, 2)  # the clock's today
DUE = date(2026, 12, 2)  # the monthly service's first renewal
MID = date(2026, 11, 17)  # the upgrade: 15 of the 30 days left
DEPARTMENT = "Техническая поддержка"


# --- set-up ---------------------------------------------------------------------------------------


@pytest.fixture
def disk(app) -> Product:
    """The demo catalogue's disk product (module ``diskspace``), usage-based so that the billing
    run asks the plugin for the usage over the quota; and the support department."""
    products = actions.load_demo_catalogue().values()
    product = next(product for product in products if product.module == "diskspace")
    product.type = ProductType.USAGE
    session().commit()
    make_department(DEPARTMENT, "support@example.com")
    return product


class Server:
    """A stand-in for the storage server: real scripts the commands run, a log of their
    arguments, and the usage they report."""

    def __init__(self, root: Path) -> None:
        self.log = root / "calls.log"
        self.used = root / "used_bytes"
        self.used.write_text("0\n")
        self.quota = self._script(root / "quota.sh", f'echo "$@" >> {self.log}\n')
        self.usage = self._script(root / "usage.sh", f"cat {self.used}\n")
        self.failing = self._script(
            root / "broken.sh", 'echo "setquota: user $1 not found" >&2\nexit 3\n'
        )

    @staticmethod
    def _script(path: Path, body: str) -> Path:
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return path

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def set_used(self, used_bytes: int) -> None:
        self.used.write_text(f"{used_bytes}\n")


@pytest.fixture
def server(tmp_path: Path) -> Server:
    return Server(tmp_path)


def command_settings(server: Server, **overrides: Any) -> None:
    values = {
        "backend": "command",
        "command": f"{server.quota} set {{account}} {{quota_kb}} {{quota_gb}}",
        "suspend_command": f"{server.quota} suspend {{account}}",
        "terminate_command": "",
        "usage_command": f"{server.usage} {{account}}",
        "usage_unit": "bytes",
        "department": DEPARTMENT,
        **overrides,
    }
    actions.save_plugin_settings("diskspace", values)


def ticket_settings() -> None:
    actions.save_plugin_settings("diskspace", {"backend": "ticket", "department": DEPARTMENT})


def pay(invoice: Invoice, reference: str, on: date = BOUGHT) -> None:
    record_payment(
        session().get(Client, invoice.client_id),
        amount=invoice.balance,
        method="bank",
        reference=reference,
        payment_date=on,
        invoices=[invoice],
    )


def bought(clock, disk: Product, packages: int = 2, **client: str) -> Service:
    """A client orders ``packages`` packages monthly and pays the first invoice."""
    customer = make_client(clock, **client)
    customer.tax_exempt = True
    service, invoice = actions.order_and_accept(
        customer, disk, options={disk.options[0].id: packages}, today=BOUGHT
    )
    pay(invoice, "п/п 1")
    return service


def at(clock, day: date, hour: int = 9) -> datetime:
    clock.set(datetime.combine(day, time(hour), UTC))
    return clock.now()


def run_queue(clock) -> actions.RunReport:
    return actions.run_provisioning(clock.now())


def tasks() -> list[ProvisioningTask]:
    return actions.provisioning_tasks()


def upgrade(service: Service, packages: int) -> Invoice:
    option = service.product.options[0].id
    return actions.change_options(service, {option: packages}, today=MID)


# --- the plugin is found by its entry point -------------------------------------------------------


def test_the_plugin_is_enabled_by_its_entry_point_name(app) -> None:
    info = actions.plugin_info("diskspace")
    assert (info.state, info.module) == ("enabled", "portal_diskspace")
    assert isinstance(actions.provisioner("diskspace"), DiskSpace)


# --- command backend ------------------------------------------------------------------------------


def test_command_backend_end_to_end(disk, server, clock) -> None:
    command_settings(server)
    service = bought(clock, disk, packages=2)
    [create] = tasks()
    assert (create.action, create.module) == (ProvisioningAction.CREATE, "diskspace")
    assert run_queue(clock).done == 1
    account = f"disk{service.id}"
    assert server.calls() == [f"set {account} {10 * 1024 * 1024} 10"]
    session().expire_all()
    assert service.username == account and service.status is ServiceStatus.ACTIVE

    # upgrade to 3 packages half-way through the month: prorated, ends with the service's period
    at(clock, MID)
    invoice = upgrade(service, 3)
    [line] = invoice.lines
    assert line.period_end == service.next_due_date - timedelta(days=1) or (
        line.period_end == service.next_due_date
    )
    assert D(0) < line.total < D("60.00")  # one more package (60.00) for half of the month
    assert len(tasks()) == 1  # nothing reaches the backend before the invoice is paid
    pay(invoice, "п/п 2", on=MID)
    assert run_queue(clock).done == 1
    assert server.calls()[-1] == f"set {account} {15 * 1024 * 1024} 15"

    # daily usage: 17 GB used for three days, under the quota on the others
    for day, used in ((date(2026, 11, 20), 14), (date(2026, 11, 21), 17), (date(2026, 11, 22), 16)):
        at(clock, day, 2)
        server.set_used(used * GB)
        assert collect_daily(day)["measured"] == 1
        assert collect_daily(day)["measured"] == 1  # the second run of a day keeps the sample
    samples = session().scalars(select(DiskUsage).order_by(DiskUsage.day)).all()
    assert [(s.day.day, s.used_bytes // GB, s.quota_bytes // GB) for s in samples] == [
        (20, 14, 15),
        (21, 17, 15),
        (22, 16, 15),
    ]

    # the renewal invoice carries the peak over the quota (2 GB at 10.00) for the ended month
    at(clock, DUE, 4)
    actions.run_billing(DUE)
    renewal = session().scalar(select(Invoice).where(Invoice.issue_date == DUE))
    lines = {line.description: line for line in renewal.lines}
    over = next(
        line for text, line in lines.items() if text.startswith("Disk space over the quota")
    )
    assert (over.quantity, over.unit_price, over.total) == (D("2"), D("10.00"), D("20.00"))
    assert over.description == "Disk space over the quota (02.11.2026 - 01.12.2026)"
    packages = next(line for line in renewal.lines if line.id != over.id)
    assert packages.total == D("180.00") and packages.period_start == DUE

    # suspension (overdue automation) and termination (staff) reach the backend
    assert actions.suspend_for_non_payment(service, as_of=DUE)
    run_queue(clock)
    assert server.calls()[-1] == f"suspend {account}"
    actions.set_service_status(service, "terminated")
    run_queue(clock)
    # no terminate command set: the quota command with 1 KB (the data is kept)
    assert server.calls()[-1] == f"set {account} 1 0"
    assert all(task.status is TaskStatus.DONE for task in tasks())


def test_a_failing_command_fails_the_task_with_its_stderr(disk, server, clock) -> None:
    command_settings(server, command=f"{server.failing} {{account}}")
    service = bought(clock, disk)
    report = run_queue(clock)
    [task] = tasks()
    assert report.retried == 1 and task.status is TaskStatus.QUEUED
    assert (
        task.last_error
        == f"{server.failing} exited with 3: setquota: user disk{service.id} not found"
    )
    for _attempt in range(actions.MAX_ATTEMPTS):
        clock.advance(actions.BACKOFF_MAX)
        run_queue(clock)
    session().expire_all()
    assert task.status is TaskStatus.FAILED and service.provisioning_status == "failed"
    assert "not found" in service.provisioning_error


def test_an_account_name_is_one_argument_never_a_shell(disk, server, clock) -> None:
    command_settings(server)
    service = bought(clock, disk)
    service.username = "evil; rm -rf /"
    session().commit()
    run_queue(clock)
    assert server.calls() == [f"set evil; rm -rf / {10 * 1024 * 1024} 10"]  # echoed as data


def test_a_hanging_command_is_ended_with_what_it_started(disk, server, tmp_path, clock) -> None:
    """The quota tool starts a helper and hangs: at the timeout the attempt fails with a clear
    message and neither the tool nor its helper is left running under PID 1."""
    pids = tmp_path / "pids"
    hanging = server._script(
        tmp_path / "hanging.sh",
        f"sleep 600 &\necho $! >> {pids}\necho $$ >> {pids}\nexec sleep 600\n",
    )
    command_settings(server, command=f"{hanging} {{account}}", command_timeout=1)
    bought(clock, disk)
    try:
        report = run_queue(clock)
        [task] = tasks()
        assert report.retried == 1 and task.status is TaskStatus.QUEUED
        assert task.last_error == f"{hanging} did not finish in 1 s."
        started = [int(pid) for pid in pids.read_text().split()]
        assert len(started) == 2
        assert not [pid for pid in started if alive(pid)]
    finally:
        for pid in pids.read_text().split() if pids.exists() else ():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


# --- ticket backend -------------------------------------------------------------------------------


def test_ticket_backend_waits_for_staff_to_close_the_ticket(disk, clock) -> None:
    ticket_settings()
    service = bought(clock, disk, packages=2)
    report = run_queue(clock)
    assert (report.done, report.waiting, report.failed) == (0, 1, 0)
    [ticket] = session().scalars(select(Ticket)).all()
    assert ticket.subject == "Disk space: 0 GB -> 10 GB"
    assert ticket.department.name == DEPARTMENT and ticket.client_id == service.client_id
    assert ticket.staff_only  # a task for the admins: the client neither sees nor closes it
    body = ticket.messages[0].body
    assert f"disk{service.id}" in body and "New quota: 10 GB" in body
    [task] = tasks()
    assert task.status is TaskStatus.QUEUED
    assert task.last_error.startswith(f"Waiting for staff to close ticket #{ticket.reference}")
    session().expire_all()
    assert service.status is ServiceStatus.PENDING or service.provisioning_status == ""

    # checked again later: still open, no second ticket, the retries are not used up
    for _check in range(actions.MAX_ATTEMPTS + 2):
        clock.advance(timedelta(minutes=10))
        assert run_queue(clock).waiting == 1
    assert session().query(Ticket).count() == 1 and session().query(DiskRequest).count() == 1

    staff = make_staff(clock)
    actions.close_ticket(ticket, staff)
    clock.advance(timedelta(minutes=10))
    assert run_queue(clock).done == 1
    session().expire_all()
    assert task.status is TaskStatus.DONE and service.status is ServiceStatus.ACTIVE

    # the upgrade to 3 packages, once paid, asks for 10 GB -> 15 GB
    at(clock, MID)
    pay(upgrade(service, 3), "п/п 2", on=MID)
    run_queue(clock)
    newest = session().scalars(select(Ticket).order_by(Ticket.id.desc())).first()
    assert newest.subject == "Disk space: 10 GB -> 15 GB"
    assert "Current quota: 10 GB" in newest.messages[0].body


def test_a_ticket_needs_a_department(disk, clock) -> None:
    actions.save_plugin_settings("diskspace", {"backend": "ticket", "department": "Нет такого"})
    bought(clock, disk)
    run_queue(clock)
    [task] = tasks()
    assert task.last_error == "Choose the support department in the disk space settings."
    assert session().query(Ticket).count() == 0


# --- grace period ---------------------------------------------------------------------------------


def test_writing_is_blocked_after_the_grace_days_and_unblocked_under_the_quota(
    disk, server, clock
) -> None:
    command_settings(server, grace_days=3)
    service = bought(clock, disk, packages=1)  # 5 GB
    run_queue(clock)
    server.set_used(6 * GB)
    start = date(2026, 11, 3)
    for offset in range(4):  # over the quota on the 3rd, 4th, 5th and 6th
        day = start + timedelta(days=offset)
        at(clock, day, 2)
        counts = collect_daily(day)
        assert counts["blocked"] == (1 if offset == 3 else 0)
    [block] = [t for t in tasks() if t.action is ProvisioningAction.SUSPEND]
    assert block.payload["reason"] == OVER_QUOTA
    run_queue(clock)
    assert server.calls()[-1] == f"suspend disk{service.id}"
    session().expire_all()
    assert service.status is ServiceStatus.ACTIVE  # only the excess is blocked, not the service
    assert collect_daily(start + timedelta(days=3))["blocked"] == 0  # once per stretch

    server.set_used(4 * GB)  # the client deleted files
    at(clock, date(2026, 11, 7), 2)
    assert collect_daily(date(2026, 11, 7))["unblocked"] == 1
    run_queue(clock)
    assert server.calls()[-1] == f"set disk{service.id} {5 * 1024 * 1024} 5"
    at(clock, date(2026, 11, 8), 2)
    assert collect_daily(date(2026, 11, 8))["unblocked"] == 0


# --- report, settings, test connection ------------------------------------------------------------


def test_the_report_shows_usage_against_quota_with_chart_and_csv(
    disk, server, clock, staff_web
) -> None:
    command_settings(server)
    service = bought(clock, disk, packages=2, company="ООО «Диск»")
    run_queue(clock)
    server.set_used(12 * GB)
    collect_daily(BOUGHT)
    url = "/admin/reports/diskspace_usage?since=2026-11-01&until=2026-11-30&client=Диск"
    page = staff_web.get(url).get_data(as_text=True)
    assert "Disk usage against quota" in page and "ООО «Диск»" in page
    assert f"disk{service.id}" in page and "<svg" in page
    csv = staff_web.get(url + "&format=csv").get_data(as_text=True)
    # CSV for programs: dot decimals (XLSX is the one for Excel)
    assert "ООО «Диск»,#1" in csv.replace(f"#{service.id}", "#1") and ",10.00,12.00,12.00,1" in csv
    assert "<rect" in page and 'text-end text-nowrap">12.00<' in page  # numbers, right-aligned
    assert "ООО «Диск»" in staff_web.get(url + "&over_only=y").get_data(as_text=True)
    server.set_used(9 * GB)
    collect_daily(BOUGHT + timedelta(days=1))  # under the quota from now on
    later = url.replace("since=2026-11-01", "since=2026-11-03") + "&over_only=y"
    assert "ООО «Диск»" not in staff_web.get(later).get_data(as_text=True)


def test_the_settings_form_refuses_unknown_placeholders(app) -> None:
    with app.test_request_context():
        form = DiskSpaceSettings(
            formdata=MultiDict(
                {
                    "backend": "command",
                    "command": "setquota -u {user} {quota_kb} 0 0 /home",
                    "usage_command": "quota '-u",
                    "usage_unit": "kb",
                    "command_timeout": "30",
                    "department": "",
                    "package_gb": "5",
                    "over_quota_price": "10.00",
                    "grace_days": "30",
                }
            ),
            meta={"csrf": False},
        )
        assert not form.validate()
        assert form.command.errors[0].startswith("Unknown placeholder {user}; use {account}")
        assert form.usage_command.errors[0].startswith("The command cannot be read")
        assert not form.department.errors  # only the ticket backend needs a department


def test_test_connection_checks_the_backend(disk, server) -> None:
    module = actions.provisioner("diskspace")
    message = module.test_connection(
        {"backend": "command", "command": f"{server.quota} {{account}}", "usage_command": ""}
    )
    assert str(server.quota) in message
    with pytest.raises(ProvisioningError, match="was not found"):
        module.test_connection({"backend": "command", "command": "no-such-quota-tool {account}"})
    assert module.test_connection({"backend": "ticket", "department": DEPARTMENT}) == (
        f"Tickets go to {DEPARTMENT}."
    )
    disk.type = ProductType.SERVICE
    session().commit()
    warning = module.test_connection({"backend": "ticket", "department": DEPARTMENT})
    assert "only for usage-based products" in warning and disk.name in warning


def test_staff_configure_the_module_on_the_plugins_page(disk, staff_web) -> None:
    from portal.testing.web import csrf_token_from

    token = csrf_token_from(staff_web.get("/admin/plugins").get_data(as_text=True))
    form = {
        "backend": "command",
        "command": "setquota -u {account} {quota_kb} {quota_kb} 0 0 /home",
        "suspend_command": "",
        "terminate_command": "",
        "usage_command": "quota -u {acount}",
        "usage_unit": "kb",
        "command_timeout": "20",
        "department": DEPARTMENT,
        "package_gb": "10",
        "over_quota_price": "7.50",
        "grace_days": "14",
    }
    posted = {f"diskspace-{key}": value for key, value in form.items()}
    posted["diskspace-csrf_token"] = token
    page = staff_web.post("/admin/plugins/diskspace/settings", data=posted)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Unknown placeholder {acount}" in text
    assert "quota -u {acount}" in text  # what staff typed is kept
    assert plugin_settings("diskspace")["backend"] == "ticket"  # nothing saved

    posted["diskspace-usage_command"] = "quota -u {account}"
    assert staff_web.post("/admin/plugins/diskspace/settings", data=posted).status_code == 302
    saved = plugin_settings("diskspace")
    assert (saved["package_gb"], saved["over_quota_price"], saved["grace_days"]) == (
        10,
        "7.50",
        14,
    )
    assert saved["usage_command"] == "quota -u {account}"
