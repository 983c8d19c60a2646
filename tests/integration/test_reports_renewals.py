"""Renewals: the coming renewals at a fixed date with their expected amounts, and the renewal
rate per month, against figures computed by hand (issue #21).

The billing runs of 1 March, 1 April, 1 May and 10 May invoice the periods due within 14 days
(every product's window); some invoices are paid:

    T  Users x5, bought 15.02.2026 (1 000/month): March paid, April paid, 15 May unpaid
    U  Backup, bought 03.02.2026 (800/month): March paid, April unpaid, terminated 20.04
       (its period of 3 May was never invoiced)
    P  Users x5 + Support pack, bought 20.04.2026 (1 000 + 200): 20 May invoiced, unpaid
    Q  Annual licence, bought 01.06.2025 (13 000/year): due 01.06.2026, not invoiced yet
    S  Backup, bought 25.04.2026, to end with its period: not a renewal

    renewal rate   March 2 of 2 (100 %), April 1 of 2 (50 %), May to the 10th 0 of 1 (U)
    due on 10.05 in 30 days   T 15.05 1 000 (invoiced), P 20.05 1 200 (invoiced),
                              Q 01.06 13 000; total 15 200
"""

from datetime import date
from decimal import Decimal

import pytest

from portal.catalog.models import Addon
from portal.core.extensions import db
from portal.invoicing import payments
from portal.invoicing.billing_run import bill_due
from portal.invoicing.models import BilledPeriod, Invoice, InvoiceStatus
from portal.orders import orders, service_changes
from portal.orders.models import Service
from portal.orders.orders import CartItem
from portal.reports import renewals
from portal.reports.mrr import Scope
from portal.testing.factories import make_client
from tests.integration.test_reports_mrr import _buy, _on, shop

__all__ = ["shop"]  # the fixture, shared with test_reports_mrr

D = Decimal
TODAY = date(2026, 5, 10)
MAR, APR, MAY = date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)


def _run(clock, day: date) -> None:
    _on(clock, day)
    bill_due(day)


def _pay(clock, service, period_start: date) -> None:
    billed = (
        db.session.query(BilledPeriod)
        .filter_by(service_id=service.id, period_start=period_start)
        .one()
    )
    invoice = db.session.get(Invoice, billed.invoice_id)
    payments.record_payment(
        service.client,
        amount=invoice.total,
        method="bank",
        reference=f"renewal {invoice.number}",
        payment_date=period_start,
        invoices=[invoice],
    )


@pytest.fixture
def renewing(shop, clock):
    clients = {}
    for name in "TUPQS":
        client = make_client(clock, email=f"{name.lower()}@example.com", company=f"Client {name}")
        client.tax_exempt = True
        clients[name] = client
    db.session.commit()
    (q,) = _buy(clock, clients["Q"], (shop["annual"], "annual", None), day=date(2025, 6, 1))
    (u,) = _buy(clock, clients["U"], (shop["backup"], "monthly", None), day=date(2026, 2, 3))
    (t,) = _buy(clock, clients["T"], (shop["users"], "monthly", 5), day=date(2026, 2, 15))
    _run(clock, date(2026, 3, 1))
    _pay(clock, u, date(2026, 3, 3))
    _pay(clock, t, date(2026, 3, 15))
    _run(clock, date(2026, 4, 1))
    _pay(clock, t, date(2026, 4, 15))
    _on(clock, date(2026, 4, 20))
    service_changes.update_service(u, {"status": "terminated"})
    p = _buy_with_addon(clock, clients["P"], shop, date(2026, 4, 20))
    (s,) = _buy(clock, clients["S"], (shop["backup"], "monthly", None), day=date(2026, 4, 25))
    service_changes.update_service(
        s, {"terminate_at_period_end": True, "termination_reason": "moving to another provider"}
    )
    _run(clock, date(2026, 5, 1))
    _run(clock, TODAY)
    return {"T": t, "U": u, "P": p, "Q": q, "S": s}


def _buy_with_addon(clock, client, shop, day: date) -> Service:
    _on(clock, day)
    users = shop["users"]
    addon = db.session.query(Addon).filter_by(name="Support pack").one()
    item = CartItem(users.id, "monthly", {users.options[0].id: 5}, addon_ids=(addon.id,))
    order = orders.place_order(client, [item], today=day)
    orders.accept_order(order, today=day, send_email=False)
    return db.session.get(Service, order.items[0].service_id)


def test_due_in_the_next_thirty_days(renewing) -> None:
    due = renewals.due_renewals(TODAY, 30)
    assert [(r.due, r.client, r.amount, r.currency) for r in due] == [
        (date(2026, 5, 15), "Client T", D("1000"), "RUB"),
        (date(2026, 5, 20), "Client P", D("1200"), "RUB"),
        (date(2026, 6, 1), "Client Q", D("13000"), "RUB"),
    ]
    assert [r.invoice_status for r in due] == [InvoiceStatus.UNPAID, InvoiceStatus.UNPAID, None]
    assert due[0].invoice_number and due[2].invoice_number is None
    assert renewals.totals(due) == renewals.due_totals(TODAY, 30) == {"RUB": D("15200")}
    assert renewals.due_totals(TODAY, 10) == {"RUB": D("2200")}
    assert [r.client for r in renewals.due_renewals(TODAY, 30, limit=2)] == ["Client T", "Client P"]
    assert renewals.due_renewals(TODAY, 30, Scope(currency="EUR")) == []


def test_renewal_rate_per_month(renewing) -> None:
    rates = renewals.renewal_rates(MAR, 4, TODAY)
    assert [(r.month, r.currency, r.due, r.renewed, r.rate) for r in rates] == [
        (MAR, "RUB", 2, 2, D("100.0")),
        (APR, "RUB", 2, 1, D("50.0")),
        (MAY, "RUB", 1, 0, D("0.0")),
    ]
