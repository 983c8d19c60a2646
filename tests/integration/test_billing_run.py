"""The billing run: each service's next period billed once, one invoice per client, dates
advanced; a second run, four runs at once, or a run killed half-way and restarted equal one run,
and invoice numbers stay gapless."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import func, select

from portal import billing, hookimpl
from portal.accounts.models import ActorType, AuditEntry
from portal.catalog.models import Product
from portal.core.extensions import db
from portal.invoicing import billing_forecast, invoices, stored_documents
from portal.invoicing.billing_run import bill_due
from portal.invoicing.models import (
    BilledPeriod,
    BillingRun,
    BillingRunStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from portal.orders import orders
from portal.orders.models import Service
from portal.orders.orders import CartItem
from portal.platform import demo, runtime_settings
from portal.platform.models import Setting
from portal.testing.concurrency import billing_run, run_in_process, run_in_processes
from portal.testing.factories import make_client

D = Decimal
BOUGHT = date(2026, 2, 1)
RENEWAL = date(2026, 8, 1)  # next due of a half-year service bought on BOUGHT


@pytest.fixture
def shop(app: Flask) -> dict[str, Product]:
    products = demo.load_demo_catalogue()
    db.session.commit()
    return products


def buy(shop, client, name: str, cycle: str, quantity: int | None = None, on: date = BOUGHT):
    product = shop[name]
    options = {product.options[0].id: quantity} if quantity is not None else {}
    order = orders.place_order(client, [CartItem(product.id, cycle, options)], today=on)
    orders.accept_order(order, today=on, send_email=False)
    return db.session.get(Service, order.items[0].service_id)


def customer(clock, **fields):
    client = make_client(clock, **fields)
    client.tax_exempt = True
    db.session.commit()
    return client


def renewal_invoices(client_id: int | None = None) -> list[Invoice]:
    renewing = select(InvoiceLine.invoice_id).where(InvoiceLine.period_start >= RENEWAL)
    query = select(Invoice).where(Invoice.id.in_(renewing))
    if client_id is not None:
        query = query.where(Invoice.client_id == client_id)
    return list(db.session.scalars(query.order_by(Invoice.id)))


def state() -> tuple:
    """Everything a run writes, to compare runs."""
    lines = db.session.execute(
        select(
            Invoice.client_id,
            Invoice.number,
            Invoice.total,
            InvoiceLine.service_id,
            InvoiceLine.period_start,
            InvoiceLine.total,
        )
        .join(InvoiceLine)
        .order_by(Invoice.client_id, InvoiceLine.service_id, InvoiceLine.period_start)
    ).all()
    services = db.session.execute(
        select(Service.id, Service.period_start, Service.next_due_date).order_by(Service.id)
    ).all()
    return lines, services


def test_the_next_period_is_billed_once_and_the_dates_move_on(shop, clock) -> None:
    client = customer(clock)
    service = buy(shop, client, demo.USERS_PRODUCT, "semi_annual", 5)
    assert (service.period_start, service.next_due_date) == (BOUGHT, RENEWAL)

    assert bill_due(date(2026, 7, 24)).invoices == 0  # 8 days before due: outside the 7 days
    report = bill_due(date(2026, 7, 25))
    assert (report.invoices, report.lines, report.totals) == (1, 1, {"RUB": D("24000.00")})

    (invoice,) = renewal_invoices()
    (line,) = invoice.lines
    assert line.description == f"{demo.USERS_PRODUCT} (01.08.2026 - 31.01.2027)"
    assert line.details == ["Количество пользователей: 5 x Пользователь"]
    assert (line.quantity, line.unit_price, line.total) == (D(1), D("24000.00"), D("24000.00"))
    assert invoice.status is InvoiceStatus.UNPAID and invoice.number
    assert (invoice.issue_date, invoice.due_date) == (date(2026, 7, 25), RENEWAL)
    assert invoice.buyer["email"] == client.email
    assert invoice.id in stored_documents.pending()  # its PDF is rendered in the background
    db.session.refresh(service)
    assert (service.period_start, service.next_due_date) == (RENEWAL, date(2027, 2, 1))

    before = state()
    assert bill_due(date(2026, 7, 25)).invoices == 0  # the same day again adds nothing
    assert bill_due(date(2026, 7, 31)).invoices == 0  # and so does a later day in the window
    assert state() == before
    key = db.session.scalars(select(BilledPeriod)).one()
    assert (key.service_id, key.period_start, key.invoice_id) == (service.id, RENEWAL, invoice.id)


def test_one_invoice_per_client_unless_the_client_wants_them_separate(shop, clock) -> None:
    together, apart = customer(clock), customer(clock, separate_invoices=True)
    apart.separate_invoices = True
    db.session.commit()
    for client in (together, apart):
        buy(shop, client, demo.USERS_PRODUCT, "semi_annual", 2)
        buy(shop, client, demo.DISK_PRODUCT, "semi_annual", 3)

    report = bill_due(date(2026, 7, 30))

    assert report.invoices == 3
    assert [len(i.lines) for i in renewal_invoices(together.id)] == [2]
    assert [len(i.lines) for i in renewal_invoices(apart.id)] == [1, 1]
    assert sum(i.total for i in renewal_invoices(together.id)) == D("9600.00") + D("1080.00")


def test_drafts_per_setting_and_a_product_window_overrides_the_setting(shop, clock) -> None:
    client = customer(clock)
    buy(shop, client, demo.USERS_PRODUCT, "semi_annual", 1)
    runtime_settings.put("renewal_invoices_as_drafts", True)
    shop[demo.USERS_PRODUCT].invoice_days_before_due = 30
    db.session.commit()

    bill_due(date(2026, 7, 2))  # 30 days before due: in the product's window

    (invoice,) = renewal_invoices()
    assert invoice.status is InvoiceStatus.DRAFT and invoice.number is None
    assert invoice.total == D("4800.00")
    assert (invoice.buyer, invoice.seller) == ({}, None)  # frozen when staff issue it
    assert invoice.id not in stored_documents.pending()  # a draft's PDF is never stored
    (entry,) = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "invoice", AuditEntry.entity_id == str(invoice.id)
        )
    )
    assert (entry.action, entry.actor_type) == ("invoice.create", ActorType.SYSTEM)
    assert entry.after == {"total": "4800.00", "currency": "RUB"}
    invoices.issue_invoice(invoice, today=date(2026, 7, 3))
    assert invoice.buyer == invoices.buyer_snapshot(client)
    assert invoice.id in stored_documents.pending()
    assert invoice.seller == invoices.seller_snapshot()


def test_a_run_that_did_not_happen_for_months_catches_up_period_by_period(shop, clock) -> None:
    client = customer(clock)
    service = buy(shop, client, demo.DISK_PRODUCT, "monthly", 2)  # 120.00 a month

    assert bill_due(date(2026, 6, 1)).invoices == 1

    periods = [(line.period_start, line.period_end) for line in _all_lines(client.id)]
    assert periods == [
        (date(2026, 3, 1), date(2026, 4, 1)),
        (date(2026, 4, 1), date(2026, 5, 1)),
        (date(2026, 5, 1), date(2026, 6, 1)),
        (date(2026, 6, 1), date(2026, 7, 1)),
    ]
    db.session.refresh(service)
    assert service.next_due_date == date(2026, 7, 1)


def _all_lines(client_id: int) -> list[InvoiceLine]:
    return list(
        db.session.scalars(
            select(InvoiceLine)
            .join(Invoice)
            .where(Invoice.client_id == client_id, InvoiceLine.period_start > BOUGHT)
            .order_by(InvoiceLine.period_start)
        )
    )


class Minutes:
    """A usage plugin: 1 250 minutes at 1.20 in every period."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, billing.Period]] = []

    @hookimpl
    def collect_usage(self, service, period):
        self.asked.append((service.id, period))
        return [billing.UsageCharge("Исходящие вызовы", D("1250"), D("1.20"), unit="мин")]


def test_usage_of_the_ended_period_is_billed_with_the_renewal(make_app, shop, clock) -> None:
    minutes = Minutes()
    app = make_app(extra_plugins=(minutes,))
    with app.app_context():
        client = customer(clock)
        service = buy(shop, client, demo.PBX_OFFICE, "monthly", on=date(2026, 3, 10))
        assert bill_due(date(2026, 4, 9)).invoices == 0  # usage products renew on the due date
        bill_due(date(2026, 4, 10))
        (invoice,) = db.session.scalars(
            select(Invoice).where(Invoice.issue_date == date(2026, 4, 10))
        ).all()
        lines = invoice.lines
        assert [(line.description, line.total) for line in lines] == [
            (f"{demo.PBX_OFFICE} (10.04.2026 - 09.05.2026)", D("4500.00")),
            ("Исходящие вызовы (10.03.2026 - 09.04.2026)", D("1500.00")),
        ]
        assert minutes.asked == [(service.id, billing.Period(date(2026, 3, 10), date(2026, 4, 10)))]


def test_the_forecast_shows_the_coming_runs_and_writes_nothing(shop, clock) -> None:
    client = customer(clock)
    buy(shop, client, demo.DISK_PRODUCT, "monthly", 1, on=date(2026, 6, 1))  # 60.00, due 1st
    buy(shop, client, demo.USERS_PRODUCT, "semi_annual", 1)  # 4800.00, due 01.08
    before = state()

    result = billing_forecast.forecast(date(2026, 6, 10), 3)

    assert state() == before
    assert [(m.month, m.invoices, m.total) for m in result.months()] == [
        ("2026-06", 1, D("60.00")),  # July's period, invoiced 7 days ahead on 24.06
        ("2026-07", 1, D("60.00") + D("4800.00")),  # one client, one day: one invoice
        ("2026-08", 1, D("60.00")),
    ]
    assert result.lines[0].invoice_date == date(2026, 6, 24)


def test_progress_is_recorded_for_the_run(shop, clock) -> None:
    for _ in range(3):
        buy(shop, customer(clock), demo.DISK_PRODUCT, "monthly", 1)
    seen = []

    bill_due(date(2026, 3, 1), batch_size=2, progress=lambda batch: seen.append(batch.clients))

    run = db.session.scalars(select(BillingRun)).one()
    assert seen == [2, 1]
    assert (run.status, run.clients_total, run.clients_done, run.invoices) == (
        BillingRunStatus.FINISHED,
        3,
        3,
        3,
    )


def _customers(shop, clock, count: int) -> None:
    for n in range(count):
        client = customer(clock)
        buy(shop, client, demo.DISK_PRODUCT, "monthly", n + 1)
        if n % 2:
            buy(shop, client, demo.USERS_PRODUCT, "monthly", 1)


def _numbers() -> list[int]:
    return sorted(db.session.scalars(select(Invoice.sequence).where(Invoice.sequence.is_not(None))))


def test_a_run_killed_half_way_and_run_again_equals_one_run(
    shop, clock, portal_database_url, tmp_path
) -> None:
    _customers(shop, clock, 7)
    day = "2026-03-01"

    code = run_in_process(billing_run, portal_database_url, str(tmp_path / "a"), day, 2, 5)
    assert code == 3  # died creating the 5th invoice, in the middle of the third batch
    db.session.expire_all()
    assert db.session.scalar(select(func.count(BilledPeriod.id))) == 4 * 1 + 2  # 2 batches
    run = db.session.scalars(select(BillingRun)).one()
    assert run.status is BillingRunStatus.RUNNING  # what a dead run looks like to staff

    billing_run(portal_database_url, str(tmp_path / "b"), day)
    db.session.expire_all()
    after_restart = state()
    numbers = _numbers()
    assert len(after_restart[0]) == 7 + 3 + 7 + 3  # first invoices and renewals
    assert numbers == list(range(1, len(numbers) + 1))  # gapless
    assert bill_due(date(2026, 3, 1)).invoices == 0


@pytest.mark.postgres_only
def test_four_workers_at_once_equal_one_run(shop, clock, portal_database_url, tmp_path) -> None:
    _customers(shop, clock, 24)
    day = "2026-03-01"

    args = [(portal_database_url, str(tmp_path / f"w{n}"), day, 2) for n in range(4)]
    reports = run_in_processes(billing_run, args)

    db.session.expire_all()
    assert sum(r["invoices"] for r in reports) == 24
    assert sum(r["services"] for r in reports) == 36
    renewed = db.session.scalar(select(func.count(BilledPeriod.id)))
    assert renewed == 36
    numbers = _numbers()
    assert numbers == list(range(1, len(numbers) + 1))
    assert bill_due(date(2026, 3, 1)).invoices == 0


def test_the_run_is_a_scheduled_job_with_history(app, shop, clock) -> None:
    from portal.platform.jobs.registry import jobs
    from portal.platform.jobs.runs import run_job

    buy(shop, customer(clock), demo.DISK_PRODUCT, "monthly", 1)
    job = jobs()["billing.run"]
    run = run_job(job.id, job.run, date(2026, 3, 1))
    assert run.counts == {"clients": 1, "invoices": 1, "lines": 1}
    assert db.session.get(Setting, "renewal_invoices_as_drafts") is None


def test_a_change_between_the_renewal_invoice_and_the_due_date_counts_from_the_new_period(
    shop, clock
) -> None:
    from portal.orders import service_changes
    from portal.orders.service_changes import ChangeRequest

    client = customer(clock)
    service = buy(shop, client, demo.USERS_PRODUCT, "semi_annual", 5)
    bill_due(date(2026, 7, 28))  # 01.08.2026 - 31.01.2027 invoiced, the service moved into it

    option = service.product.options[0].id
    preview = service_changes.preview(
        service, ChangeRequest(options={option: 6}), today=date(2026, 7, 29)
    )

    quote = preview.quote
    assert (quote.days_used, quote.days_remaining) == (0, 184)
    assert quote.difference == D("4800.00")  # one more user for the whole new period
    assert preview.period == billing.Period(RENEWAL, date(2027, 2, 1))


def test_plugins_hear_of_each_renewal_once(make_app, shop, clock) -> None:
    from tests.plugins import exerciser

    app = make_app(extra_plugins=(exerciser,))
    with app.app_context():
        client = customer(clock)
        service = buy(shop, client, demo.USERS_PRODUCT, "semi_annual", 2)
        exerciser.EVENTS.clear()
        bill_due(date(2026, 7, 30))
        (invoice,) = renewal_invoices()
        assert [e for e in exerciser.EVENTS if e[0] != "order_placed"] == [
            ("invoice_created", invoice.id),
            ("invoice_issued", invoice.number),
            ("service_renewed", (service.id, RENEWAL, invoice.id)),
        ]


def test_a_renewal_invoice_is_issued_as_one_issued_by_hand(shop, clock) -> None:
    """The run's bulk writer and ``issue_invoice`` share the buyer and seller snapshot, the
    number, the due date rule and the audit entries; the run writes the entries of a batch
    with one statement, as the system."""
    runtime_settings.put(
        "company",
        {"name": "ООО «Провайдер»", "inn": "7707083893", "bank_name": "ПАО Сбербанк"},
    )
    client = customer(
        clock, company="ООО «Ромашка»", inn="7728168971", kpp="772801001", city="Москва"
    )
    others = [customer(clock), customer(clock)]
    buy(shop, client, demo.USERS_PRODUCT, "semi_annual", 5)  # its order invoice: by hand
    for other in others:
        buy(shop, other, demo.USERS_PRODUCT, "semi_annual", 1)
    (by_hand,) = db.session.scalars(select(Invoice).where(Invoice.client_id == client.id)).all()

    statements: list[tuple[str, int]] = []

    def audit_inserts(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_ENTRY"):
            statements.append((statement, len(parameters) if executemany else 1))

    sa.event.listen(db.engine, "before_cursor_execute", audit_inserts)
    try:
        bill_due(date(2026, 7, 25), started_by="test")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", audit_inserts)
    assert len(statements) == 1  # all entries of the batch at once

    (renewal,) = renewal_invoices(client.id)
    assert renewal.buyer == by_hand.buyer == invoices.buyer_snapshot(client)
    assert renewal.buyer["inn"] == "7728168971" and renewal.buyer["company"] == "ООО «Ромашка»"
    assert renewal.seller == by_hand.seller == invoices.seller_snapshot()
    assert renewal.seller["name"] == "ООО «Провайдер»" and renewal.seller["inn"] == "7707083893"
    assert (renewal.series, renewal.number) == ("2026", f"2026-{renewal.sequence:06d}")
    assert renewal.tax_date == renewal.issue_date == date(2026, 7, 25)

    def log(invoice: Invoice) -> list[AuditEntry]:
        return list(
            db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity == "invoice", AuditEntry.entity_id == str(invoice.id))
                .order_by(AuditEntry.id)
            )
        )

    run = db.session.scalars(select(BillingRun)).one()
    (entry,) = log(renewal)  # written and issued at once: no draft to log
    assert (entry.action, entry.actor_type, entry.actor_id, entry.actor_name) == (
        "invoice.issue",
        ActorType.SYSTEM,
        None,
        f"billing run #{run.id}",
    )
    assert entry.client_id == client.id
    assert entry.after == {
        "status": "unpaid",
        "number": renewal.number,
        "total": "24000.00",
        "amount_paid": "0.00",
        "due_date": "2026-08-01",
    }
    hand_issue = log(by_hand)[-1]
    assert hand_issue.action == "invoice.issue" and hand_issue.after.keys() == entry.after.keys()
    assert hand_issue.after["number"] == by_hand.number
    issued = db.session.scalar(
        select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "invoice.issue")
    )
    assert issued == 6  # three orders by hand, three renewals by the run


def test_a_renewal_is_due_after_the_clients_payment_terms(shop, clock) -> None:
    client = customer(clock)
    buy(shop, client, demo.USERS_PRODUCT, "semi_annual", 5)
    client.payment_terms_days = 20
    db.session.commit()
    bill_due(date(2026, 7, 25))
    (renewal,) = renewal_invoices(client.id)
    assert renewal.due_date == date(2026, 8, 14)  # 20 days after the invoice, not 1 August
