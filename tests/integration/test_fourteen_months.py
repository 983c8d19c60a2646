"""Fourteen months of an office, Kill Bill style: the clock moves day by day from 01.01.2026 to
01.03.2027 and every night the scheduled jobs run as the scheduler runs them (billing run,
overdue services, late fees, reminders, then the outbox delivers over real SMTP).

Three clients: a monthly service paid promptly (with VAT), a quarterly one paid late once
(reminders, a late fee, a warning, suspension, unsuspension when paid), and an annual one
upgraded mid-year (a co-terminated invoice, then renewed at the new price). Every invoice line,
every e-mail and every status on the way is checked.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from portal.catalog.models import Product, ProductGroup, ProductPrice, UpgradePath
from portal.core.extensions import db
from portal.invoicing import payments
from portal.invoicing.models import Invoice, InvoiceStatus
from portal.orders import orders, service_changes
from portal.orders.models import Order, Service, ServiceStatus
from portal.orders.orders import CartItem
from portal.orders.service_changes import ChangeRequest
from portal.platform import runtime_settings
from portal.platform.jobs.registry import jobs
from portal.platform.jobs.runs import run_job
from portal.platform.models import JobRun, RunStatus
from portal.testing.factories import make_client

D = Decimal
START, END = date(2026, 1, 1), date(2027, 3, 1)
#: The scheduler's nightly order (times in the jobs' crontabs).
NIGHTLY = ("billing.run", "services.overdue", "billing.late_fees", "billing.reminders")


class Office:
    """Moves the clock one day at a time and runs that day's jobs, then what people do."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.today = START - timedelta(days=1)
        self.plans: dict[date, list] = defaultdict(list)
        self.seen: dict[date, dict] = {}

    def on(self, day: date, action) -> None:
        self.plans[day].append(action)

    def live_until(self, last: date) -> None:
        while self.today < last:
            self.today += timedelta(days=1)
            self.clock.set(datetime.combine(self.today, time(3, 0), UTC))  # 06:00 in Moscow
            for job_id in NIGHTLY:
                job = jobs()[job_id]
                run = run_job(job.id, job.run, self.today)
                assert run is not None and run.status is RunStatus.SUCCEEDED, run and run.error
            self.clock.set(datetime.combine(self.today, time(9, 0), UTC))
            for action in self.plans.pop(self.today, []):
                action(self.today)
            job = jobs()["mail.send"]
            run_job(job.id, job.run, self.today)


def hosting(name: str, prices: dict[str, str], group: ProductGroup) -> Product:
    product = Product(group=group, name=name)
    for cycle, price in prices.items():
        product.prices.append(ProductPrice(currency="RUB", cycle=cycle, price=D(price)))
    db.session.add(product)
    return product


@pytest.fixture
def office(app: Flask, clock) -> Office:
    runtime_settings.put(
        "late_fee",
        {"kind": "fixed", "amount": "150.00", "after_days": 5, "repeat_days": 0, "cap": ""},
    )
    return Office(clock)


def customer(clock, company: str, *, vat: bool):
    client = make_client(clock, company=company, language="en")
    client.tax_exempt = not vat
    db.session.commit()
    return client


def order(client, product: Product, cycle: str, day: date) -> Service:
    placed = orders.place_order(client, [CartItem(product.id, cycle, {})], today=day)
    orders.accept_order(placed, today=day)
    return db.session.get(Service, placed.items[0].service_id)


def unpaid(client) -> list[Invoice]:
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.client_id == client.id, Invoice.status == InvoiceStatus.UNPAID)
            .order_by(Invoice.id)
        )
    )


def pay_all(client, reference: str, day: date) -> None:
    due = unpaid(client)
    payments.record_payment(
        client, amount=sum(i.balance for i in due), method="bank", reference=reference,
        payment_date=day, invoices=due,
    )  # fmt: skip


def lines_of(client) -> list[tuple[str, str, Decimal]]:
    """(invoice issue date, line, total with tax) of every invoice line, in order."""
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.client_id == client.id).order_by(Invoice.id)
    )
    return [
        (f"{invoice.issue_date:%d.%m.%Y}", line.description, line.total)
        for invoice in invoices
        for line in invoice.lines
    ]


def monthly_period(n: int) -> str:
    """The n-th month of a service started on 12.01.2026: (12.mm.yyyy - 11.mm+1.yyyy)."""
    start = date(2026 + (n // 12), n % 12 + 1, 12)
    following = date(2026 + ((n + 1) // 12), (n + 1) % 12 + 1, 11)
    return f"({start:%d.%m.%Y} - {following:%d.%m.%Y})"


def test_fourteen_months_of_billing(office: Office, clock, mailbox) -> None:
    group = ProductGroup(name="Хостинг")
    start = hosting("Хостинг «Старт»", {"monthly": "1000.00", "quarterly": "2700.00",
                                        "annual": "10000.00"}, group)  # fmt: skip
    business = hosting("Хостинг «Бизнес»", {"annual": "16000.00"}, group)
    db.session.flush()
    db.session.add(UpgradePath(from_product_id=start.id, to_product_id=business.id))
    db.session.commit()
    romashka = customer(clock, "ООО Ромашка", vat=True)
    petrov = customer(clock, "ИП Петров", vat=False)
    vector = customer(clock, "ООО Вектор", vat=False)
    services: dict[str, Service] = {}
    statuses: list[tuple[date, str]] = []

    # ООО Ромашка: monthly from 12.01.2026, pays two days after each invoice.
    office.on(date(2026, 1, 12), lambda d: services.update(r=order(romashka, start, "monthly", d)))
    for month in range(14):
        issued = date(2026, 1, 12) if month == 0 else date(2026 + month // 12, month % 12 + 1, 5)
        office.on(issued + timedelta(days=2), lambda d, m=month: pay_all(romashka, f"r{m}", d))

    # ИП Петров: quarterly from 01.01.2026; the April renewal is paid 19 days late.
    office.on(date(2026, 1, 1), lambda d: services.update(p=order(petrov, start, "quarterly", d)))
    for n, paid in enumerate(
        (date(2026, 1, 3), date(2026, 4, 20), date(2026, 6, 26), date(2026, 9, 26),
         date(2026, 12, 27))
    ):  # fmt: skip
        office.on(paid, lambda d, n=n: pay_all(petrov, f"p{n}", d))
    for day in (date(2026, 4, 10), date(2026, 4, 11), date(2026, 4, 20)):
        office.on(day, lambda d: statuses.append((d, services["p"].status.value)))

    # ООО Вектор: annual from 20.01.2026, upgraded to «Бизнес» on 01.07.2026.
    office.on(date(2026, 1, 20), lambda d: services.update(v=order(vector, start, "annual", d)))
    office.on(date(2026, 1, 22), lambda d: pay_all(vector, "v0", d))

    def upgrade(day: date) -> None:
        change = service_changes.confirm(
            services["v"], ChangeRequest(product_id=business.id), today=day
        )
        assert (change.days_used, change.days_remaining, change.difference) == (
            162, 203, D("3336.99"),
        )  # fmt: skip

    office.on(date(2026, 7, 1), upgrade)
    office.on(date(2026, 7, 3), lambda d: pay_all(vector, "v1", d))
    office.on(date(2027, 1, 15), lambda d: pay_all(vector, "v2", d))

    office.live_until(END)

    # --- every invoice line (numbers: one series per year, in the order of issue)
    romashka_lines = [("12.01.2026", f"Хостинг «Старт» {monthly_period(0)}", D("1220.00"))] + [
        (f"05.{(m % 12) + 1:02d}.{2026 + m // 12}", f"Хостинг «Старт» {monthly_period(m)}",
         D("1220.00"))
        for m in range(1, 14)
    ]  # fmt: skip
    assert lines_of(romashka) == romashka_lines
    assert lines_of(petrov) == [
        ("01.01.2026", "Хостинг «Старт» (01.01.2026 - 31.03.2026)", D("2700.00")),
        ("25.03.2026", "Хостинг «Старт» (01.04.2026 - 30.06.2026)", D("2700.00")),
        ("06.04.2026", "Late fee for invoice 2026-000006", D("150.00")),
        ("24.06.2026", "Хостинг «Старт» (01.07.2026 - 30.09.2026)", D("2700.00")),
        ("24.09.2026", "Хостинг «Старт» (01.10.2026 - 31.12.2026)", D("2700.00")),
        ("25.12.2026", "Хостинг «Старт» (01.01.2027 - 31.03.2027)", D("2700.00")),
    ]
    vector_lines = lines_of(vector)
    assert vector_lines[0] == (
        "20.01.2026",
        "Хостинг «Старт» (20.01.2026 - 19.01.2027)",
        D("10000.00"),
    )
    assert vector_lines[1] == (
        "01.07.2026",
        "Change of package: Хостинг «Старт» → Хостинг «Бизнес» (01.07.2026 - 19.01.2027)",
        D("3336.99"),
    )
    assert vector_lines[2:] == [
        ("13.01.2027", "Хостинг «Бизнес» (20.01.2027 - 19.01.2028)", D("16000.00"))
    ]
    for client in (romashka, petrov, vector):
        assert unpaid(client) == []

    # --- every status on the way
    assert statuses == [
        (date(2026, 4, 10), "active"),
        (date(2026, 4, 11), "suspended"),  # 10 days overdue
        (date(2026, 4, 20), "active"),  # paid: lifted in the same transaction
    ]
    for key in ("r", "p", "v"):
        db.session.refresh(services[key])
        assert services[key].status is ServiceStatus.ACTIVE
    assert services["v"].product_id == business.id
    assert (services["r"].next_due_date, services["p"].next_due_date) == (
        date(2027, 3, 12), date(2027, 4, 1),
    )  # fmt: skip
    assert db.session.scalar(select(JobRun).where(JobRun.status == RunStatus.FAILED)) is None

    # --- every e-mail, in the order it was delivered
    mails = defaultdict(list)
    for message in mailbox:
        mails[message["To"]].append(message["Subject"])
    paid = "Payment of RUB {} received".format

    def accepted(client) -> str:
        first = select(Order.id).where(Order.client_id == client.id).order_by(Order.id)
        number = db.session.scalar(first.limit(1))  # the new order, not the later change
        return f"Your order #{number} is accepted"  # ids differ between databases

    assert mails[romashka.email] == [
        accepted(romashka),
        paid("1,220.00"),
        *[
            subject
            for number in ("2026-000004", "2026-000005", "2026-000007", "2026-000009",
                           "2026-000010", "2026-000013", "2026-000014", "2026-000015",
                           "2026-000017", "2026-000018", "2026-000019", "2027-000001",
                           "2027-000003")
            for subject in (f"Invoice {number}", paid("1,220.00"))
        ],
    ]  # fmt: skip
    assert mails[petrov.email] == [
        accepted(petrov),
        paid("2,700.00"),
        "Invoice 2026-000006",  # 25.03: the renewal, due 01.04
        "Reminder: invoice 2026-000006 is due on 4/1/26",  # 29.03
        "Invoice 2026-000006 is due today",  # 01.04
        "Invoice 2026-000006 is overdue",  # 02.04
        "Late fee for invoice 2026-000006",  # 06.04: invoice 2026-000008, due 16.04
        "Your service Хостинг «Старт» will be suspended soon",  # 08.04, 3 days before
        "Second reminder: invoice 2026-000006 is overdue",  # 08.04, 7 days
        "Your service Хостинг «Старт» is suspended",  # 11.04, 10 days
        "Reminder: invoice 2026-000008 is due on 4/16/26",  # 13.04, the fee invoice
        "Final reminder: invoice 2026-000006 is overdue",  # 15.04, 14 days
        "Invoice 2026-000008 is due today",  # 16.04
        "Invoice 2026-000008 is overdue",  # 17.04
        "Your service Хостинг «Старт» is active again",  # 20.04, paid both
        paid("2,850.00"),
        "Invoice 2026-000011",
        paid("2,700.00"),
        "Invoice 2026-000016",
        paid("2,700.00"),
        "Invoice 2026-000020",
        paid("2,700.00"),
    ]
    assert mails[vector.email] == [
        accepted(vector),
        paid("10,000.00"),
        paid("3,336.99"),  # the change invoice is paid in the client area where it was made
        "Invoice 2027-000002",
        paid("16,000.00"),
    ]
