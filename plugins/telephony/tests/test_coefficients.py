"""A client's recurring and setup coefficients on what the plugin sells: the plan's own price
through the core's personal discount (first invoice and renewals), the numbers' monthly fees
(recurring) and connection fees (setup) on the renewal; each rounded once to kopecks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from conftest import set_day
from invoice_helpers import lines_of, renewal
from portal_telephony import demo, numbers, tariff_admin

from portal.plugin_api import record_payment, session
from portal.testing import actions

D = Decimal


def test_the_rounding_of_a_coefficient() -> None:
    assert tariff_admin.with_coefficient(D(1000), D("0.1111")) == D("111.10")
    assert tariff_admin.with_coefficient(D("970.00"), D("0.1111")) == D("107.77")  # 107.767
    assert tariff_admin.with_coefficient(D("970.00"), D(1)) == D("970.00")


def test_recurring_and_setup_coefficients_on_the_invoices(app, clock, customer, catalogue, pool):
    set_day(clock, date(2026, 3, 1))
    numbers.set_fees("ordinary", connection_fee=D(1000), monthly_fee=D(1000))
    tariff_admin.apply_recurring_coefficient(customer, D("0.1111"))
    tariff_admin.save_terms(
        customer.id, coefficient_recurring=D("0.1111"), coefficient_setup=D("0.5")
    )
    product = catalogue[demo.DEPARTMENT]
    service, first = actions.order_and_accept(
        customer, product, options={product.options[0].id: 2}, today=date(2026, 3, 1)
    )
    # (2 000 + 2 x 300) x 0.1111 = 288.86
    assert first is not None and first.total == D("288.86")
    record_payment(customer, amount=first.total, method="bank", reference="1", invoices=[first])
    set_day(clock, date(2026, 3, 5))
    numbers.assign(pool["74957001005"], service, actor="client", extension="101")

    set_day(clock, date(2026, 4, 1))
    april = renewal(customer, date(2026, 4, 1))
    amounts = dict(lines_of(april))
    assert lines_of(april)[0][1] == D("288.86")  # the plan again, with its coefficient
    number_lines = sorted(a for text, a in amounts.items() if "74957001005" in text)
    # connection 1 000 x 0.5 = 500.00; monthly 1 000 x 0.1111 = 111.10
    assert number_lines == [D("111.10"), D("500.00")]
    assert april.total == D("288.86") + D("111.10") + D("500.00")

    # back to 1: the core discount ends from today, the next renewal is at list price
    tariff_admin.apply_recurring_coefficient(customer, D(1))
    tariff_admin.save_terms(customer.id, coefficient_recurring=D(1), coefficient_setup=D(1))
    record_payment(customer, amount=april.total, method="bank", reference="2", invoices=[april])
    set_day(clock, date(2026, 5, 1))
    may = renewal(customer, date(2026, 5, 1))
    assert lines_of(may)[0][1] == D("2600.00")
    assert [a for text, a in lines_of(may) if "74957001005" in text] == [D("1000.00")]


def test_the_setup_coefficient_on_the_plans_setup_fee_and_a_numbers_connection(
    app, clock, customer, catalogue, pool
) -> None:
    """A hand-computed oracle: 2 200 x 0.5555 = 1 222.10, both for the plan's own setup fee on
    the first invoice (the core's ``setup_coefficient`` hook) and for a number's connection
    fee on the renewal; the plan's price keeps the recurring coefficient (1 here)."""
    set_day(clock, date(2026, 3, 1))
    numbers.set_fees("ordinary", connection_fee=D("2200.00"), monthly_fee=D("970.00"))
    product = catalogue[demo.DEPARTMENT]
    (price,) = [row for row in product.prices if row.cycle == "monthly"]
    price.setup_fee = D("2200.00")
    session().commit()
    tariff_admin.save_terms(customer.id, coefficient_setup=D("0.5555"))
    service, first = actions.order_and_accept(customer, product, today=date(2026, 3, 1))
    assert first is not None
    setup = [a for text, a in lines_of(first) if text.endswith("Плата за подключение")]
    assert setup == [D("1222.10")]
    assert first.total == D("2000.00") + D("1222.10")
    record_payment(customer, amount=first.total, method="bank", reference="s1", invoices=[first])
    set_day(clock, date(2026, 3, 5))
    numbers.assign(pool["74957001005"], service, actor="client", extension="101")
    set_day(clock, date(2026, 4, 1))
    april = renewal(customer, date(2026, 4, 1))
    number_lines = sorted(a for text, a in lines_of(april) if "74957001005" in text)
    assert number_lines == [D("970.00"), D("1222.10")]
    # a coefficient of 1 is no answer: the core keeps the list price
    assert tariff_admin.setup_coefficient_of(customer, product) == D("0.5555")
    tariff_admin.save_terms(customer.id, coefficient_setup=D(1))
    assert tariff_admin.setup_coefficient_of(customer, product) is None


def test_a_coefficient_above_one_is_refused_on_the_terms_page(app, clock, customer, catalogue):
    from portal.testing.factories import make_staff

    staff = make_staff(clock, email="terms@example.com")
    web = app.test_client()
    web.sign_in_staff(staff.email)
    web.submit("/language", {"language": "ru", "next": "/admin/"}, form_page="/admin/")
    url = f"/admin/telephony/clients/{customer.id}/terms"
    values = {
        "tariff": "0",
        "coefficient_recurring": "1.2",
        "coefficient_setup": "1",
        "coefficient_duration": "1",
        "low_balance": "100",
        "credit_limit": "0",
    }
    page = web.submit(url, values, form_page=url)
    assert page.status_code == 200 and "не больше 1" in page.get_data(as_text=True)
    assert session().get(tariff_admin.ClientTerms, customer.id) is None
