"""MRR, its movements, churn rates and cohorts against figures computed by hand (issue #21).

Four months of a small shop, driven through the portal's own services with the clock moved to
each day: orders accepted, an upgrade paid, a downgrade, a termination, a client coming back.

    product           price                  MRR
    Users             500/month + 100/user   5 users 1 000, 8 users 1 300, 10 users 1 500,
                      (setup fee 300)        4 users 900
    Backup            800/month              800
    Annual licence    13 000/year            13 000 / 12 = 1 083.333…
    Installation      5 000 once             0 (one-off)

    A  10.01 Users x5 (1 000)          05.03 upgrade to 8 users, paid (1 300)
    B  20.01 Users x10 (1 500)         12.02 downgrade to 4 users (900)
    C  05.01 Backup (800)              20.02 terminated      08.04 Annual licence (1 083.33)
    D  12.03 Annual licence + Installation (1 083.33)
    E  15.02 Installation only (no MRR, in no cohort)

    month   start      new        expansion  contraction  churn  reactivation  end
    Jan     0          3 300      0          0            0      0             3 300
    Feb     3 300      0          0          600          800    0             1 900
    Mar     1 900      1 083.33   300        0            0      0             3 283.33
    Apr     3 283.33   0          0          0            0      1 083.33      4 366.67

April's end is 1 300 + 900 + 2 x 13 000 / 12 = 4 366.666… rounded once (4 366.67), not
1 300 + 900 + 2 x 1 083.33 = 4 366.66; its ARR is 52 400.00 exactly.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask

from portal import billing
from portal.catalog.models import (
    Addon,
    AddonPrice,
    ConfigOption,
    ConfigOptionPrice,
    OptionKind,
    Product,
    ProductGroup,
    ProductPrice,
)
from portal.core.extensions import db
from portal.invoicing import payments
from portal.invoicing.models import Invoice
from portal.orders import orders, service_changes
from portal.orders.models import OrderSource, Service
from portal.orders.orders import CartItem
from portal.reports import churn, cohorts, mrr
from portal.testing.factories import make_client

D = Decimal
JAN, FEB, MAR, APR = (date(2026, m, 1) for m in (1, 2, 3, 4))
TODAY = date(2026, 5, 10)


def _product(group: ProductGroup, name: str, cycle: str, price: str, setup: str = "0") -> Product:
    product = Product(name=name, group=group)
    product.prices.append(
        ProductPrice(currency="RUB", cycle=cycle, price=D(price), setup_fee=D(setup))
    )
    db.session.add(product)
    return product


@pytest.fixture
def shop(app: Flask) -> dict[str, Product]:
    group = ProductGroup(name="Cloud")
    users = _product(group, "Users", "monthly", "500", setup="300")
    option = ConfigOption(name="Users", kind=OptionKind.QUANTITY, unit="user", minimum=1)
    option.prices.append(ConfigOptionPrice(currency="RUB", cycle="monthly", price=D("100")))
    users.options.append(option)
    products = {
        "users": users,
        "backup": _product(group, "Backup", "monthly", "800"),
        "annual": _product(group, "Annual licence", "annual", "13000"),
        "install": _product(group, "Installation", "one_time", "5000"),
    }
    for product in products.values():
        product.invoice_days_before_due = 14
    support = Addon(name="Support pack", products=[users])
    support.prices.append(AddonPrice(currency="RUB", cycle="monthly", price=D("200")))
    db.session.add(support)
    db.session.commit()
    return products


def _on(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC))


def _buy(clock, client, *items: tuple[Product, str, int | None], day: date) -> list[Service]:
    _on(clock, day)
    cart = [
        CartItem(p.id, cycle, {p.options[0].id: users} if users else {})
        for p, cycle, users in items
    ]
    order = orders.place_order(client, cart, today=day)
    orders.accept_order(order, today=day, send_email=False)
    return [db.session.get(Service, item.service_id) for item in order.items]


def _users(clock, service: Service, count: int, day: date) -> None:
    """The client sets the number of users on ``day``; the renewals before it were billed and
    paid (the service's current period is the one containing ``day``)."""
    _on(clock, day)
    period = billing.period_containing(
        service.registration_date, billing.Cycle.MONTHLY, day, service.anchor_day
    )
    service.period_start, service.next_due_date = period.start, period.end
    db.session.commit()
    change = service_changes.confirm(
        service,
        service_changes.ChangeRequest(options={service.product.options[0].id: count}),
        today=day,
        source=OrderSource.CLIENT_AREA,
    )
    if change.invoice_id is not None:  # an upgrade applies when its invoice is paid
        invoice = db.session.get(Invoice, change.invoice_id)
        payments.record_payment(
            service.client,
            amount=invoice.total,
            method="bank",
            reference=f"upgrade {change.id}",
            payment_date=day,
            invoices=[invoice],
        )


@pytest.fixture
def history(shop, clock) -> dict[str, object]:
    clients = {}
    for name in "ABCDE":
        client = make_client(clock, email=f"{name.lower()}@example.com", company=f"Client {name}")
        client.tax_exempt = True
        clients[name] = client
    db.session.commit()
    (c_backup,) = _buy(clock, clients["C"], (shop["backup"], "monthly", None), day=date(2026, 1, 5))
    (a_users,) = _buy(clock, clients["A"], (shop["users"], "monthly", 5), day=date(2026, 1, 10))
    (b_users,) = _buy(clock, clients["B"], (shop["users"], "monthly", 10), day=date(2026, 1, 20))
    _users(clock, b_users, 4, date(2026, 2, 12))
    _buy(clock, clients["E"], (shop["install"], "one_time", None), day=date(2026, 2, 15))
    _on(clock, date(2026, 2, 20))
    service_changes.update_service(c_backup, {"status": "terminated"})
    _users(clock, a_users, 8, date(2026, 3, 5))
    _buy(
        clock,
        clients["D"],
        (shop["annual"], "annual", None),
        (shop["install"], "one_time", None),
        day=date(2026, 3, 12),
    )
    _buy(clock, clients["C"], (shop["annual"], "annual", None), day=date(2026, 4, 8))
    _on(clock, TODAY)
    return clients


def test_the_services_hold_what_the_oracle_assumes(history) -> None:
    a, b = (db.session.query(Service).filter_by(client_id=history[n].id).one() for n in "AB")
    assert (a.recurring_amount, b.recurring_amount) == (D("1300"), D("900"))


def test_mrr_at_each_month_end(history) -> None:
    assert mrr.mrr_by_currency(date(2026, 1, 31)) == {"RUB": D("3300.00")}
    assert mrr.mrr_by_currency(date(2026, 2, 28)) == {"RUB": D("1900.00")}
    assert mrr.mrr_by_currency(date(2026, 3, 31)) == {"RUB": D("3283.33")}
    assert mrr.mrr_by_currency(date(2026, 4, 30)) == {"RUB": D("4366.67")}
    assert mrr.mrr_by_currency(date(2025, 12, 31)) == {}
    # the day before and the day of a change
    assert mrr.mrr_by_currency(date(2026, 3, 4)) == {"RUB": D("1900.00")}
    assert mrr.mrr_by_currency(date(2026, 3, 5)) == {"RUB": D("2200.00")}
    assert mrr.mrr_by_currency(date(2026, 2, 19)) == {"RUB": D("2700.00")}
    assert mrr.mrr_by_currency(date(2026, 2, 20)) == {"RUB": D("1900.00")}


def test_mrr_series_for_the_dashboard(history) -> None:
    assert mrr.mrr_series(JAN, 6, "RUB") == [
        (JAN, D("3300.00")),
        (FEB, D("1900.00")),
        (MAR, D("3283.33")),
        (APR, D("4366.67")),
        (date(2026, 5, 1), D("4366.67")),  # the current month: at the end of today
    ]
    assert mrr.mrr_series(JAN, 2, "EUR") == [(JAN, D("0.00")), (FEB, D("0.00"))]


def _figures(m: mrr.Movements) -> tuple:
    return (m.starting, m.new, m.expansion, m.contraction, m.churn, m.reactivation, m.ending)


def test_movements_over_four_months(history) -> None:
    months = mrr.movements(JAN, 4)
    assert [(m.month, m.currency) for m in months] == [(m, "RUB") for m in (JAN, FEB, MAR, APR)]
    assert [_figures(m) for m in months] == [
        (D(0), D("3300.00"), D(0), D(0), D(0), D(0), D("3300.00")),
        (D("3300.00"), D(0), D(0), D("600.00"), D("800.00"), D(0), D("1900.00")),
        (D("1900.00"), D("1083.33"), D("300.00"), D(0), D(0), D(0), D("3283.33")),
        (D("3283.33"), D(0), D(0), D(0), D(0), D("1083.33"), D("4366.67")),
    ]
    assert [
        (m.clients_start, m.clients_end, m.new_clients, m.churned_clients, m.reactivated_clients)
        for m in months
    ] == [(0, 3, 3, 0, 0), (3, 2, 0, 1, 0), (2, 3, 1, 0, 0), (3, 4, 0, 0, 1)]
    assert months[-1].arr == D("52400.00")


def test_churn_rates(history) -> None:
    months = mrr.movements(JAN, 4)
    assert [m.customer_churn_rate for m in months] == [None, D("33.3"), D("0.0"), D("0.0")]
    # (800 churned + 600 contracted) / 3 300
    assert months[1].mrr_churn_rate == D("42.4")
    services = churn.subscription_churn(JAN, 4)
    assert [(s.month, s.subscriptions, s.churned, s.rate) for s in services] == [
        (JAN, 0, 0, None),
        (FEB, 3, 1, D("33.3")),
        (MAR, 2, 0, D("0.0")),
        (APR, 3, 0, D("0.0")),
    ]


def test_cohort_retention(history) -> None:
    table = cohorts.cohorts(JAN, 4)
    assert [(c.month, c.clients, c.paying) for c in table] == [
        (JAN, 3, (3, 2, 2, 3)),
        (FEB, 0, (0, 0, 0)),
        (MAR, 1, (1, 1)),
        (APR, 0, (0,)),
    ]
    assert [table[0].share(n) for n in range(4)] == [D("100.0"), D("66.7"), D("66.7"), D("100.0")]


def test_scope_by_product_and_currency(history, shop) -> None:
    annual = mrr.Scope(product_id=shop["annual"].id)
    assert mrr.mrr_units_by_currency(date(2026, 4, 30), annual) == {"RUB": D(13000 * 6 * 2)}
    assert mrr.mrr_units_by_currency(date(2026, 4, 30), mrr.Scope(currency="USD")) == {}


def test_scope_of_a_product_follows_the_plan_at_each_month_end(history, shop) -> None:
    annual = mrr.Scope(product_id=shop["annual"].id)
    months = mrr.movements(JAN, 4, annual)
    assert [m.ending for m in months] == [D(0), D(0), D("1083.33"), D("2166.67")]
    # C bought a Backup in January: coming back with the licence is a reactivation
    assert [(m.new, m.reactivation) for m in months[2:]] == [
        (D("1083.33"), D(0)),
        (D(0), D("1083.33")),
    ]


def test_a_client_reordering_the_same_product_is_a_reactivation(shop, clock) -> None:
    client = make_client(clock, email="x@example.com", company="Client X")
    client.tax_exempt = True
    db.session.commit()
    (backup,) = _buy(clock, client, (shop["backup"], "monthly", None), day=date(2026, 1, 5))
    _on(clock, date(2026, 2, 20))
    service_changes.update_service(backup, {"status": "terminated"})
    (again,) = _buy(clock, client, (shop["backup"], "monthly", None), day=date(2026, 4, 8))
    _on(clock, TODAY)
    assert again.id == backup.id  # one service per product, reopened
    april = mrr.movements(APR, 1)[0]
    # the row keeps only its latest registration; the first order shows the client had bought
    assert (april.new, april.reactivation, april.ending) == (D(0), D("800.00"), D("800.00"))


def test_a_service_without_an_order_is_new_business(shop, clock) -> None:
    """Services made without an order (the demo data, an import) count as new, not as a
    reactivation, and their client as paying."""
    client = make_client(clock, email="y@example.com", company="Client Y")
    db.session.add(
        Service(
            client_id=client.id,
            product_id=shop["backup"].id,
            status="active",
            cycle="monthly",
            currency="RUB",
            registration_date=date(2026, 3, 3),
            recurring_amount=D("800"),
            created_at=clock.now(),
        )
    )
    db.session.commit()
    march = mrr.movements(MAR, 1)[0]
    assert (march.new, march.reactivation, march.ending) == (D("800.00"), D(0), D("800.00"))
    assert (march.new_clients, march.clients_end) == (1, 1)
