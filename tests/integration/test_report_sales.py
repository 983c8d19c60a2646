"""Sales against hand-computed figures: new clients and orders per month, a promo code's uses
and cost (orders placed and accepted through the order flow), the top clients by income and
the renewals forecast by month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Flask
from sqlalchemy import select

from portal.catalog.models import Addon
from portal.core.extensions import db
from portal.invoicing.models import BilledPeriod, Invoice, InvoiceStatus
from portal.orders.models import Service, ServiceAddon, ServiceStatus
from portal.reports import sales
from portal.testing.actions import load_demo_catalogue
from portal.testing.factories import make_client
from tests.fixtures.sales import make_orders, payment

D = Decimal


def test_new_clients_orders_and_promotions(app: Flask, clock) -> None:
    make_orders(clock)
    months = sales.new_clients_and_orders(date(2026, 10, 1), date(2026, 11, 30))
    assert [(m.month, m.new_clients, m.orders, m.accepted) for m in months] == [
        (date(2026, 10, 1), 1, 1, 1),
        (date(2026, 11, 1), 2, 2, 1),
    ]
    # One use (the cancelled order gave its use back): 10 % of the 4 500.00 office PBX.
    used = sales.promotions(date(2026, 11, 1), date(2026, 11, 30))
    assert [(p.code, p.currency, p.uses, p.cost) for p in used] == [
        ("SAVE10", "RUB", 1, D("450.00"))
    ]
    assert sales.promotions(date(2026, 10, 1), date(2026, 10, 31)) == []


def test_top_clients_by_income(app: Flask, clock) -> None:
    alpha = make_client(clock, company="Альфа")
    beta = make_client(clock, company="Бета")
    gamma = make_client(clock, first_name="Гамма", last_name="Гаммова")
    payment(alpha, date(2026, 10, 5), "1000")
    payment(alpha, date(2026, 11, 1), "2000")
    payment(alpha, date(2026, 11, 2), "-500", refund=True)
    payment(alpha, date(2026, 9, 30), "5000")  # before the period
    payment(beta, date(2026, 11, 30), "3000")
    payment(gamma, date(2026, 10, 1), "100")
    payment(gamma, date(2026, 10, 2), "9999", currency="EUR")
    db.session.commit()
    top = sales.top_clients(date(2026, 10, 1), date(2026, 11, 30), "RUB")
    assert [(c.name, c.payments, c.income) for c in top] == [
        ("Бета", 1, D("3000.00")),
        ("Альфа", 3, D("2500.00")),
        ("Гамма Гаммова", 1, D("100.00")),
    ]
    assert [
        c.client_id for c in sales.top_clients(date(2026, 10, 1), date(2026, 11, 30), "RUB", 2)
    ] == [
        beta.id,
        alpha.id,
    ]
    euro = sales.top_clients(date(2026, 10, 1), date(2026, 11, 30), "EUR")
    assert [(c.name, c.income) for c in euro] == [("Гамма Гаммова", D("9999.00"))]


def test_income_forecast_by_month(app: Flask, clock) -> None:
    products = list(load_demo_catalogue().values())
    one, two = make_client(clock), make_client(clock)

    def service(client, product, cycle, amount, due, **fields):
        values = {
            "client_id": client.id,
            "product_id": products[product].id,
            "status": ServiceStatus.ACTIVE,
            "cycle": cycle,
            "currency": "RUB",
            "registration_date": date(2026, 1, 1),
            "next_due_date": due,
            "recurring_amount": D(amount),
            "created_at": clock.now(),
        }
        values.update(fields)
        db.session.add(Service(**values))

    service(one, 0, "monthly", "100", date(2026, 11, 15))  # every month
    service(one, 1, "quarterly", "300", date(2026, 12, 1))  # December (March is after)
    service(one, 2, "annual", "1200", date(2027, 2, 10), status=ServiceStatus.SUSPENDED)
    service(one, 3, "annual", "7000", date(2026, 10, 20))  # due already; next in October 2027
    service(  # staff's price counts, in euros
        two, 0, "monthly", "50", date(2027, 1, 5), currency="EUR", price_override=D("40")
    )
    service(two, 1, "monthly", "999", date(2026, 11, 5), status=ServiceStatus.TERMINATED)
    service(two, 2, "monthly", "999", date(2026, 11, 5), terminate_at_period_end=True)
    service(two, 3, "one_time", "999", date(2026, 11, 5))
    service(two, 4, "monthly", "10", date(2026, 9, 3))  # overdue monthly: renews from November
    db.session.commit()
    monthly = db.session.scalar(select(Service).where(Service.recurring_amount == D("100")))
    annual = db.session.scalar(select(Service).where(Service.recurring_amount == D("7000")))
    # A running add-on of 5 on the monthly service, one ended (not counted).
    for status in (ServiceStatus.ACTIVE, ServiceStatus.TERMINATED):
        db.session.add(
            ServiceAddon(
                service_id=monthly.id if status is ServiceStatus.ACTIVE else annual.id,
                addon_id=db.session.scalar(select(Addon.id)),
                status=status,
                recurring_amount=D("5"),
                registration_date=date(2026, 1, 1),
                created_at=clock.now(),
            )
        )
    # The billing run invoiced the annual 7 000 ahead for a period starting on 10 January (its
    # passed next due date counts from October 2027): counted in January; a cancelled one is not.
    for status, start in ((InvoiceStatus.UNPAID, 10), (InvoiceStatus.CANCELLED, 11)):
        invoice = Invoice(
            client_id=one.id, currency="RUB", status=status, total=D("7000"), created_at=clock.now()
        )
        db.session.add(invoice)
        db.session.flush()
        db.session.add(
            BilledPeriod(
                service_id=annual.id,
                period_start=date(2027, 1, start),
                period_end=date(2028, 1, start),
                invoice_id=invoice.id,
                created_at=clock.now(),
            )
        )
    db.session.commit()
    forecast = sales.income_forecast(date(2026, 11, 2), 4)
    assert forecast == {
        date(2026, 11, 1): {"RUB": D("115.00")},
        date(2026, 12, 1): {"RUB": D("415.00")},
        date(2027, 1, 1): {"EUR": D("40.00"), "RUB": D("7115.00")},
        date(2027, 2, 1): {"EUR": D("40.00"), "RUB": D("1315.00")},
    }
