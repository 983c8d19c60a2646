"""Overdue services, clock-driven: a warning, then suspension, then termination, each once;
"never suspend", "do not suspend until" (client and service) and product overrides; automatic
unsuspension when the client pays; termination at the end of the paid period."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import hookimpl
from portal.core.extensions import db
from portal.invoicing import payments
from portal.invoicing.models import Invoice, OverdueAction
from portal.messaging.models import OutboundMessage
from portal.orders import orders
from portal.orders.models import ProvisioningTask, Service, ServiceStatus
from portal.orders.orders import CartItem
from portal.platform import demo, runtime_settings
from portal.platform.jobs.registry import jobs
from portal.platform.jobs.runs import run_job
from portal.testing.factories import make_client

D = Decimal
BOUGHT = date(2026, 11, 2)
DUE = date(2026, 11, 12)  # the first invoice: 10 days to pay


@pytest.fixture
def shop(app: Flask):
    products = demo.load_demo_catalogue()
    db.session.commit()
    return products


def buy(shop, client, name: str = demo.DISK_PRODUCT) -> Service:
    """An active monthly service whose first invoice is unpaid (the disk product has a module)."""
    product = shop[name]
    item = CartItem(product.id, "monthly", {product.options[0].id: 2})
    order = orders.place_order(client, [item], today=BOUGHT)
    orders.accept_order(order, today=BOUGHT, send_email=False)
    return db.session.get(Service, order.items[0].service_id)


def first_invoice(service: Service) -> Invoice:
    return db.session.scalar(
        select(Invoice).where(Invoice.client_id == service.client_id).order_by(Invoice.id)
    )


def pay(client, invoice: Invoice, reference: str, on: date) -> None:
    payments.record_payment(
        client,
        amount=invoice.balance,
        method="bank",
        reference=reference,
        payment_date=on,
        invoices=[invoice],
    )


def run_overdue(as_of: date, clock) -> dict[str, int]:
    clock.set(datetime.combine(as_of, time(4, 0), UTC))
    done = run_job("services.overdue", jobs()["services.overdue"].run, as_of)
    assert done is not None and not done.error, done and done.error
    return done.counts


def every_day(start: date, end: date, clock, twice: bool = True) -> dict[date, dict[str, int]]:
    """Run the job each day (twice: the second run must do nothing); the days something
    happened, with what."""
    happened = {}
    day = start
    while day <= end:
        counts = run_overdue(day, clock)
        if twice:
            again = run_overdue(day, clock)
            assert not any(again.values()), (day, again)
        done = {key: n for key, n in counts.items() if n}
        if done:
            happened[day] = done
        day += timedelta(days=1)
    return happened


def actions(service: Service) -> list[tuple[str, date]]:
    rows = db.session.execute(
        select(OverdueAction.action, OverdueAction.action_date)
        .where(OverdueAction.service_id == service.id)
        .order_by(OverdueAction.id)
    )
    return [(action.value, day) for action, day in rows]


def tasks(service: Service) -> list[str]:
    return [
        task.action.value
        for task in db.session.scalars(
            select(ProvisioningTask)
            .where(ProvisioningTask.service_id == service.id)
            .order_by(ProvisioningTask.id)
        )
    ]


def subjects(client) -> list[str]:
    return list(
        db.session.scalars(
            select(OutboundMessage.subject)
            .where(OutboundMessage.client_id == client.id)
            .order_by(OutboundMessage.id)
        )
    )


class Recorder:
    """A plugin that remembers the service events it is told about."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, Any]] = []

    @hookimpl
    def service_suspended(self, service: Any, reason: str) -> None:
        self.events.append(("suspended", service.id, reason))

    @hookimpl
    def service_unsuspended(self, service: Any) -> None:
        self.events.append(("unsuspended", service.id, None))

    @hookimpl
    def service_terminated(self, service: Any) -> None:
        self.events.append(("terminated", service.id, None))


def test_warning_then_suspension_then_termination(make_app, clock) -> None:
    recorder = Recorder()
    with make_app(extra_plugins=(recorder,)).app_context():
        shop = demo.load_demo_catalogue()
        db.session.commit()
        client = make_client(clock)
        service = buy(shop, client)
        product = shop[demo.DISK_PRODUCT].name

        happened = every_day(DUE, date(2027, 1, 20), clock)

        assert happened == {
            date(2026, 11, 19): {"warned": 1},  # 7 days overdue: 3 days before suspension
            date(2026, 11, 22): {"suspended": 1},  # 10 days
            date(2027, 1, 11): {"terminated": 1},  # 60 days
        }
        assert actions(service) == [
            ("suspension_warning", date(2026, 11, 19)),
            ("suspend", date(2026, 11, 22)),
            ("terminate", date(2027, 1, 11)),
        ]
        db.session.refresh(service)
        assert service.status is ServiceStatus.TERMINATED
        assert service.suspension_reason == "overdue" and service.termination_reason == "overdue"
        assert service.suspended_at.date() == date(2026, 11, 22)
        assert service.terminated_at.date() == date(2027, 1, 11)
        assert tasks(service) == ["suspend", "terminate"]
        assert recorder.events == [
            ("suspended", service.id, "overdue"),
            ("terminated", service.id, None),
        ]
        assert subjects(client) == [
            f"Your service {product} will be suspended soon",
            f"Your service {product} is suspended",
            f"Your service {product} is terminated",
        ]
        warning = db.session.scalar(
            select(OutboundMessage.text).where(OutboundMessage.subject.contains("soon"))
        )
        assert "is 7 days overdue" in warning and "suspended in 3 days" in warning


def test_never_suspend_and_do_not_suspend_until(shop, clock) -> None:
    never = make_client(clock, never_suspend=True)
    until_client = make_client(clock, no_suspend_until=date(2026, 11, 30))
    until_service = make_client(clock)
    kept, late_client, late_service = (
        buy(shop, never),
        buy(shop, until_client),
        buy(shop, until_service),
    )
    late_service.no_suspend_until = date(2026, 12, 5)
    db.session.commit()

    happened = every_day(DUE, date(2026, 12, 10), clock)

    assert actions(kept) == []
    assert actions(late_client) == [("suspend", date(2026, 12, 1))]  # no warning: past the day
    assert actions(late_service) == [("suspend", date(2026, 12, 6))]
    assert happened == {date(2026, 12, 1): {"suspended": 1}, date(2026, 12, 6): {"suspended": 1}}
    # "never suspend" also means never terminated automatically
    assert run_overdue(date(2027, 6, 1), clock)["terminated"] == 2
    db.session.refresh(kept)
    assert kept.status is ServiceStatus.ACTIVE


def test_product_overrides_win_over_the_settings(shop, clock) -> None:
    runtime_settings.put("suspend_after_days", 20)
    runtime_settings.put("terminate_after_days", 0)  # never, by default
    quick = shop[demo.DISK_PRODUCT]
    quick.suspend_after_days, quick.terminate_after_days = 3, 5
    gentle = shop[demo.USERS_PRODUCT]
    gentle.suspend_after_days, gentle.terminate_after_days = 0, 30
    db.session.commit()
    first, second = make_client(clock), make_client(clock)
    fast, slow = buy(shop, first), buy(shop, second, demo.USERS_PRODUCT)

    every_day(DUE, date(2026, 12, 31), clock)

    assert actions(fast) == [
        ("suspension_warning", date(2026, 11, 13)),  # 3 - 3 days: as soon as it is overdue
        ("suspend", date(2026, 11, 15)),
        ("terminate", date(2026, 11, 17)),
    ]
    assert actions(slow) == [("terminate", date(2026, 12, 12))]  # never suspended, 30 days


def test_paying_unsuspends_unless_another_invoice_is_overdue(shop, clock) -> None:
    client = make_client(clock)
    service = buy(shop, client)
    first = first_invoice(service)
    # a second invoice for the same service, due a week later
    from portal import billing
    from portal.invoicing import invoices

    draft = invoices.create_draft(
        client, [(billing.charge_line("Дополнительный пакет", D("60.00"), "RUB"), service.id)]
    )
    db.session.commit()
    second = invoices.issue_invoice(draft, today=date(2026, 11, 9))  # due 19.11
    every_day(DUE, date(2026, 11, 25), clock, twice=False)
    db.session.refresh(service)
    assert service.status is ServiceStatus.SUSPENDED

    pay(client, first, "п/п 10", date(2026, 11, 25))
    db.session.refresh(service)
    assert service.status is ServiceStatus.SUSPENDED  # the second invoice is still overdue

    pay(client, second, "п/п 11", date(2026, 11, 25))
    db.session.refresh(service)
    assert service.status is ServiceStatus.ACTIVE
    assert service.suspended_at is None and service.suspension_reason == ""
    assert [task for task in tasks(service) if task != "create"] == ["suspend", "unsuspend"]
    assert actions(service)[-1] == ("unsuspend", date(2026, 11, 25))
    assert f"Your service {service.product.name} is active again" in subjects(client)
    assert run_overdue(date(2026, 11, 26), clock) == {
        "warned": 0,
        "suspended": 0,
        "terminated": 0,
        "errors": 0,
    }


def test_a_service_staff_suspended_stays_suspended_when_paid(shop, clock) -> None:
    client = make_client(clock)
    service = buy(shop, client)
    service.status, service.suspension_reason = ServiceStatus.SUSPENDED, "abuse"
    db.session.commit()
    pay(client, first_invoice(service), "п/п 12", date(2026, 11, 20))
    db.session.refresh(service)
    assert service.status is ServiceStatus.SUSPENDED and service.suspension_reason == "abuse"


def test_termination_at_the_end_of_the_paid_period(shop, clock) -> None:
    client = make_client(clock)
    service = buy(shop, client)
    pay(client, first_invoice(service), "п/п 13", date(2026, 11, 3))
    service.terminate_at_period_end, service.termination_reason = True, "переход к другому"
    db.session.commit()
    assert service.next_due_date == date(2026, 12, 2)

    happened = every_day(DUE, date(2026, 12, 10), clock)

    assert happened == {date(2026, 12, 2): {"terminated": 1}}
    db.session.refresh(service)
    assert service.status is ServiceStatus.TERMINATED
    assert service.termination_reason == "переход к другому"
    assert subjects(client)[-1] == f"Your service {service.product.name} is terminated"
    text = db.session.scalars(select(OutboundMessage.text).order_by(OutboundMessage.id)).all()[-1]
    assert "at the end of its paid period" in text


# --- several workers ----------------------------------------------------------------------------


def run_job_in_process(database_url: str, instance_path: str, day: str) -> dict:
    from portal.core.app import create_app

    app = create_app(
        {"database_url": database_url, "secret_key": "concurrency", "plugins": []},
        instance_path=instance_path,
    )
    with app.app_context():
        return jobs()["services.overdue"].run(date.fromisoformat(day))


@pytest.mark.postgres_only
def test_four_processes_at_once_suspend_once(shop, clock, portal_database_url, tmp_path) -> None:
    from portal.testing.concurrency import run_in_processes

    services = [buy(shop, make_client(clock)) for _n in range(5)]
    args = [(portal_database_url, str(tmp_path / f"w{n}"), "2026-11-25") for n in range(4)]
    reports = run_in_processes(run_job_in_process, args)
    assert sum(report["suspended"] for report in reports) == 5
    db.session.expire_all()
    assert db.session.scalar(select(func.count(OverdueAction.id))) == 5
    assert all(tasks(service) == ["suspend"] for service in services)
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == 5
