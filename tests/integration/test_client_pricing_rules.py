"""A client's personal discounts and tax rules where lines are priced: the first invoice of an
order (and its checkout quote), renewals in the billing run before, inside and after a rule's
window, and a line's tax; the rules' validation, ending and audit entries."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import event, select

from portal.accounts.models import AuditEntry
from portal.catalog import catalog, client_rules, tax
from portal.catalog.client_rules import RuleError
from portal.catalog.models import ClientDiscount, ClientTaxRule, Product
from portal.core.clock import today
from portal.core.extensions import db
from portal.invoicing.billing_run import bill_due
from portal.invoicing.models import Invoice, InvoiceLine
from portal.orders import orders
from portal.orders.models import PromoCode, PromoCodeKind, Service
from portal.orders.orders import CartItem
from portal.platform import demo
from portal.testing.factories import make_client

D = Decimal
BOUGHT = date(2026, 2, 1)


@pytest.fixture
def shop(app: Flask) -> dict[str, Product]:
    products = demo.load_demo_catalogue()
    db.session.commit()
    return products


def at(clock, day: date) -> date:
    """Move the clock to ``day`` (noon in Moscow) and return the business date."""
    clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC))
    assert today() == day
    return day


def users(shop, count: int, cycle: str = "monthly") -> CartItem:
    product = shop[demo.USERS_PRODUCT]
    return CartItem(product.id, cycle, {product.options[0].id: count})


def buy(shop, client, item: CartItem, on: date, promo: str = "") -> Service:
    order = orders.place_order(client, [item], today=on, promo_code=promo)
    orders.accept_order(order, today=on, send_email=False)
    return db.session.get(Service, order.items[0].service_id)


def customer(clock, *, exempt: bool = True):
    client = make_client(clock)
    client.tax_exempt = exempt
    db.session.commit()
    return client


def renewal_line(service: Service, period_start: date) -> InvoiceLine:
    return db.session.scalar(
        select(InvoiceLine).where(
            InvoiceLine.service_id == service.id, InvoiceLine.period_start == period_start
        )
    )


def recurring_promo(code: str = "LOYAL10") -> PromoCode:
    promo = PromoCode(
        code=code,
        kind=PromoCodeKind.PERCENT,
        value=D("10"),
        description="Постоянным клиентам 10%",
        product_ids=[],
        cycles=[],
        recurring=True,
        created_at=orders.clock().now(),
    )
    db.session.add(promo)
    db.session.commit()
    return promo


# --- the first invoice of an order --------------------------------------------------------------


def test_first_invoice_and_checkout_take_the_personal_discount_not_the_promo(shop, clock) -> None:
    client = customer(clock)
    on = at(clock, BOUGHT)
    client_rules.save_discount(client, {"kind": "percent", "value": "15", "valid_from": on})
    item = users(shop, 5, "semi_annual")  # 5 x 4 800.00 = 24 000.00
    quote = orders.quote_cart(client, [item], today=on, promo_code="REF5")
    (line,) = quote.draft.lines  # no promo line: the personal discount wins, they never stack
    assert (line.list_amount, line.discount, line.amount) == (
        D("24000.00"),
        D("3600.00"),
        D("20400.00"),
    )
    assert line.details[-1] == "Personal discount 15 %"
    assert quote.personal_discount == D("3600.00") and quote.promo_shut_out

    service = buy(shop, client, item, on, promo="REF5")
    invoice = db.session.scalar(select(Invoice).where(Invoice.client_id == client.id))
    (row,) = invoice.lines
    assert (row.discount, row.amount, row.total) == (D("3600.00"), D("20400.00"), D("20400.00"))
    assert invoice.discount == D("3600.00") and invoice.total == D("20400.00")
    assert service.recurring_amount == D("24000.00")  # the list price: the window decides later


def test_a_product_discount_wins_over_all_products_and_others_keep_the_promo(shop, clock) -> None:
    client = customer(clock)
    on = at(clock, BOUGHT)
    disk = shop[demo.DISK_PRODUCT]
    client_rules.save_discount(client, {"kind": "coefficient", "value": "0.9", "note": "всем"})
    client_rules.save_discount(
        client, {"kind": "coefficient", "value": "0,5000", "product_id": disk.id}
    )
    items = [
        users(shop, 1, "semi_annual"),
        CartItem(disk.id, "semi_annual", {disk.options[0].id: 3}),
    ]
    quote = orders.quote_cart(client, items, today=on)
    amounts = [(line.description.split(" (")[0], line.amount) for line in quote.draft.lines]
    assert amounts == [(demo.USERS_PRODUCT, D("4320.00")), (demo.DISK_PRODUCT, D("540.00"))]
    # with Russian as the client's language the sub-line is Russian, with a decimal comma
    client.language = "ru"
    quote = orders.quote_cart(client, items, today=on)
    assert quote.draft.lines[1].details[-1] == "Персональная скидка 50 %"


def test_a_discount_outside_its_window_and_a_price_by_hand_get_nothing(shop, clock) -> None:
    client = customer(clock)
    on = at(clock, BOUGHT)
    client_rules.save_discount(
        client, {"kind": "percent", "value": "20", "valid_from": date(2026, 3, 1)}
    )
    quote = orders.quote_cart(client, [users(shop, 1)], today=on)
    assert quote.draft.lines[0].amount == D("800.00")
    later = orders.quote_cart(client, [users(shop, 1)], today=date(2026, 3, 1))
    assert later.draft.lines[0].amount == D("640.00")
    by_hand = CartItem(users(shop, 1).product_id, "monthly", price_override=D("700.00"))
    staff_quote = orders.quote_cart(client, [by_hand], today=date(2026, 3, 1), staff=True)
    assert staff_quote.draft.lines[0].amount == D("700.00")


# --- renewals in the billing run ----------------------------------------------------------------


def test_renewals_before_inside_and_after_the_window(shop, clock) -> None:
    client = customer(clock)
    service = buy(shop, client, users(shop, 1), at(clock, BOUGHT))  # 800.00 a month
    client_rules.save_discount(
        client,
        {
            "kind": "percent",
            "value": "25",
            "valid_from": date(2026, 4, 1),
            "valid_to": date(2026, 4, 30),
        },
    )
    bill_due(at(clock, date(2026, 2, 25)))  # March: before the window
    bill_due(at(clock, date(2026, 3, 25)))  # April: inside
    bill_due(at(clock, date(2026, 4, 24)))  # May: after
    march, april, may = (renewal_line(service, date(2026, m, 1)) for m in (3, 4, 5))
    assert (march.amount, march.discount) == (D("800.00"), D("0.00"))
    assert (april.amount, april.discount) == (D("600.00"), D("200.00"))
    assert april.details[-1] == "Personal discount 25 %"
    assert (may.amount, may.discount) == (D("800.00"), D("0.00"))
    april_invoice = db.session.get(Invoice, april.invoice_id)
    assert (april_invoice.discount, april_invoice.total) == (D("200.00"), D("600.00"))


def test_a_renewal_with_a_recurring_promo_takes_the_discount_on_the_list_price(shop, clock) -> None:
    recurring_promo()
    client = customer(clock)
    service = buy(shop, client, users(shop, 1), at(clock, BOUGHT), promo="LOYAL10")
    assert service.recurring_amount == D("720.00")  # 800.00 - 10 %
    client_rules.save_discount(
        client, {"kind": "percent", "value": "25", "valid_from": date(2026, 4, 1)}
    )
    bill_due(at(clock, date(2026, 2, 25)))
    bill_due(at(clock, date(2026, 3, 25)))
    assert renewal_line(service, date(2026, 3, 1)).amount == D("720.00")  # the promo alone
    april = renewal_line(service, date(2026, 4, 1))
    assert april.amount == D("600.00")  # 800.00 x 0.75, not 720.00 x 0.75: no stacking


def test_the_run_reads_the_rules_once_per_batch(shop, clock) -> None:
    on = at(clock, BOUGHT)
    clients = [customer(clock) for _ in range(4)]
    for client in clients:
        buy(shop, client, users(shop, 1), on)
        client_rules.save_discount(client, {"kind": "percent", "value": "10"})
        client_rules.save_tax_rule(client, {"percent": "10"})
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        report = bill_due(at(clock, date(2026, 2, 25)), batch_size=2)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert report.invoices == 4
    assert sum("FROM client_discount" in s for s in statements) == 2  # two batches
    assert sum("FROM client_tax_rule" in s for s in statements) == 2
    line = db.session.scalar(
        select(InvoiceLine).where(InvoiceLine.period_start == date(2026, 3, 1))
    )
    assert line.amount == D("720.00")


def test_renewal_tax_follows_the_client_rule_window(shop, clock) -> None:
    client = customer(clock, exempt=False)
    service = buy(shop, client, users(shop, 1), at(clock, BOUGHT))
    client_rules.save_tax_rule(
        client,
        {
            "percent": "5",
            "valid_from": date(2026, 3, 1),
            "valid_to": date(2026, 3, 31),
            "name": "УСН",
        },
    )
    bill_due(at(clock, date(2026, 2, 25)))  # tax date before the window: VAT 22 %
    bill_due(at(clock, date(2026, 3, 25)))  # inside: the client's 5 %
    bill_due(at(clock, date(2026, 4, 24)))  # after: VAT again
    rates = [renewal_line(service, date(2026, m, 1)).tax_percent for m in (3, 4, 5)]
    assert rates == [D("22"), D("5"), D("22")]
    assert renewal_line(service, date(2026, 4, 1)).tax == D("40.00")


# --- a line's tax -------------------------------------------------------------------------------


def test_line_tax_takes_the_first_matching_client_rule(shop, clock) -> None:
    client = customer(clock, exempt=False)
    users_product, licences = shop[demo.USERS_PRODUCT], shop[demo.LICENCES_PRODUCT]
    client_rules.save_tax_rule(
        client, {"percent": "0", "product_types": ["licence"], "valid_from": date(2026, 1, 1)}
    )
    client_rules.save_tax_rule(
        client, {"percent": "10", "valid_from": date(2026, 6, 1), "valid_to": date(2026, 6, 30)}
    )

    def rate(product: Product, day: date) -> Decimal:
        return catalog.line_tax(client, product, day).percent

    assert rate(users_product, date(2026, 5, 31)) == D("22")  # before the window
    assert rate(users_product, date(2026, 6, 1)) == D("10")  # inside
    assert rate(users_product, date(2026, 7, 1)) == D("22")  # after
    assert rate(licences, date(2026, 6, 15)) == D("0")  # the licence rule is more specific
    assert rate(licences, date(2025, 12, 31)) == D("20")  # before it: VAT of 2025
    # a line with no product (a top-up, a manual line) gets the all-types rule
    assert tax.line_tax(client, tax_date=date(2026, 6, 2)).percent == D("10")
    client.tax_exempt = True  # an exempt client still pays no tax
    assert rate(users_product, date(2026, 6, 1)) == D("0")
    assert rate(licences, date(2026, 6, 1)) == D("0")


# --- validation, ending, audit ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"kind": "coefficient", "value": "0"}, "value", "Коэффициент должен быть больше 0"),
        ({"kind": "coefficient", "value": "1.2"}, "value", "Коэффициент должен быть больше 0"),
        ({"kind": "coefficient", "value": "0.85001"}, "value", "не больше 4 знаков"),
        ({"kind": "percent", "value": "101"}, "value", "Процент скидки должен быть от 0 до 100"),
        ({"kind": "percent", "value": "-1"}, "value", "Процент скидки должен быть от 0 до 100"),
        ({"kind": "percent", "value": "abc"}, "value", "Процент скидки должен быть от 0 до 100"),
        ({"kind": "percent", "value": ""}, "value", "Укажите скидку."),
        (
            {
                "kind": "percent",
                "value": "5",
                "valid_from": date(2026, 5, 1),
                "valid_to": date(2026, 4, 30),
            },
            "valid_to",
            "Дата окончания раньше даты начала.",
        ),
    ],
)
def test_discount_validation_speaks_russian(clock, app, values, field, message) -> None:
    client = customer(clock)
    with force_locale("ru"), pytest.raises(RuleError) as error:
        client_rules.save_discount(client, values)
    assert error.value.field == field and message in str(error.value)
    assert db.session.scalar(select(ClientDiscount.id)) is None


def test_overlapping_windows_for_the_same_product_are_refused(shop, clock) -> None:
    client = customer(clock)
    disk = shop[demo.DISK_PRODUCT]
    window = {"valid_from": date(2026, 3, 1), "valid_to": date(2026, 5, 31)}
    client_rules.save_discount(
        client, {"kind": "percent", "value": "10", "product_id": disk.id, **window}
    )
    with force_locale("ru"), pytest.raises(RuleError) as error:
        client_rules.save_discount(
            client,
            {
                "kind": "percent",
                "value": "5",
                "product_id": disk.id,
                "valid_from": date(2026, 5, 31),
            },
        )
    assert str(error.value).startswith(
        f"У клиента уже есть скидка на «{disk.name}» на 01.03.2026 – 31.05.2026: "
        "периоды пересекаются."
    )
    # the day after, another product, all products, another client: all fine
    client_rules.save_discount(
        client,
        {"kind": "percent", "value": "5", "product_id": disk.id, "valid_from": date(2026, 6, 1)},
    )
    client_rules.save_discount(client, {"kind": "percent", "value": "5", **window})
    with pytest.raises(RuleError, match="all products"):
        client_rules.save_discount(client, {"kind": "coefficient", "value": "0.9"})
    client_rules.save_discount(customer(clock), {"kind": "percent", "value": "5", **window})
    # editing a discount does not clash with itself
    first = db.session.scalar(select(ClientDiscount).order_by(ClientDiscount.id))
    client_rules.save_discount(
        client, {"kind": "percent", "value": "12", "product_id": disk.id, **window}, first
    )
    assert first.value == D("12.0000")


def test_tax_rule_validation(clock, app) -> None:
    client = customer(clock)
    client_rules.save_tax_rule(client, {"percent": "10", "product_types": ["service"]})
    with force_locale("ru"):
        with pytest.raises(RuleError, match="Ставка налога должна быть от 0 до 100"):
            client_rules.save_tax_rule(client, {"percent": "120"})
        with pytest.raises(RuleError, match="налоговое правило для тех же типов продуктов"):
            client_rules.save_tax_rule(
                client,
                {"percent": "0", "product_types": ["service"], "valid_from": date(2027, 1, 1)},
            )
        with pytest.raises(RuleError, match="Дата окончания раньше даты начала"):
            client_rules.save_tax_rule(
                client,
                {"percent": "0", "valid_from": date(2027, 1, 2), "valid_to": date(2027, 1, 1)},
            )
        with pytest.raises(RuleError, match="Выберите типы продуктов из списка"):
            client_rules.save_tax_rule(client, {"percent": "0", "product_types": ["nonsense"]})
    client_rules.save_tax_rule(client, {"percent": "0"})  # all types: another scope
    assert [r.percent for r in client_rules.tax_rules_of(client.id)] == [D("10"), D("0")]


def test_ending_a_rule_closes_it_yesterday_or_removes_it_and_is_audited(shop, clock) -> None:
    client = customer(clock)
    on = at(clock, date(2026, 4, 10))
    running = client_rules.save_discount(
        client, {"kind": "percent", "value": "10", "valid_from": date(2026, 4, 1)}
    )
    upcoming = client_rules.save_tax_rule(client, {"percent": "0", "valid_from": date(2026, 5, 1)})
    assert client_rules.end_rule(running, on) is False
    assert running.valid_to == date(2026, 4, 9)
    assert client_rules.personal_discounts(client.id, on) == ()
    assert client_rules.end_rule(upcoming, on) is True
    assert db.session.get(ClientTaxRule, upcoming.id) is None
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.client_id == client.id).order_by(AuditEntry.id)
    ).all()
    assert [a for a in actions if a.startswith("client_")] == [
        "client_discount.create",
        "client_tax_rule.create",
        "client_discount.end",
        "client_tax_rule.delete",
    ]


def test_a_deleted_product_or_client_takes_its_rules_along(shop, clock) -> None:
    client = customer(clock)
    client_rules.save_discount(client, {"kind": "percent", "value": "10"})
    client_rules.save_tax_rule(client, {"percent": "0"})
    db.session.delete(client)
    db.session.commit()
    assert db.session.scalar(select(ClientDiscount.id)) is None
    assert db.session.scalar(select(ClientTaxRule.id)) is None


def test_a_merged_clients_rules_follow_it_unless_they_clash(shop, clock) -> None:
    from portal.accounts import clients

    kept, merged = customer(clock), customer(clock)
    disk = shop[demo.DISK_PRODUCT]
    client_rules.save_discount(kept, {"kind": "percent", "value": "10"})
    client_rules.save_discount(merged, {"kind": "percent", "value": "30"})  # clashes: dropped
    client_rules.save_discount(merged, {"kind": "percent", "value": "20", "product_id": disk.id})
    client_rules.save_tax_rule(merged, {"percent": "0", "product_types": ["licence"]})
    clients.merge_clients(kept, merged, staff_id=None)
    db.session.commit()
    values = {(row.product_id, row.value) for row in client_rules.discounts_of(kept.id)}
    assert values == {(None, D("10.0000")), (disk.id, D("20.0000"))}
    assert [r.product_types for r in client_rules.tax_rules_of(kept.id)] == [["licence"]]
    assert db.session.scalar(select(ClientDiscount).where(ClientDiscount.value == D("30"))) is None


def test_the_forecast_prices_renewals_as_the_run_will(shop, clock) -> None:
    from portal.invoicing import billing_forecast

    client = customer(clock)
    buy(shop, client, users(shop, 1), at(clock, BOUGHT))
    client_rules.save_discount(
        client,
        {
            "kind": "percent",
            "value": "25",
            "valid_from": date(2026, 4, 1),
            "valid_to": date(2026, 4, 30),
        },
    )
    plan = billing_forecast.forecast(date(2026, 2, 20), 3)
    by_start = {line.period.start: line.net for line in plan.lines}
    assert by_start[date(2026, 3, 1)] == D("800.00")
    assert by_start[date(2026, 4, 1)] == D("600.00")
    assert by_start[date(2026, 5, 1)] == D("800.00")
