"""Licences per organisation: within a client account one product line has one period (a
second licence of the line is co-terminated with the first by the core, prorated), a tariff
change mid-term runs to the same end date priced new − unused remainder of old, and is free
at renewal. Amounts are checked against sums worked out here from the dates."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from portal_onec import demo
from portal_onec.licences import licences_of, tariff_change, tariff_change_price
from portal_onec.settings import LICENCE, PLUGIN

from portal.billing import Cycle
from portal.plugin_api import (
    Client,
    DemoProduct,
    Product,
    ProductType,
    Service,
    add_demo_products,
    add_demo_service,
    record_payment,
    session,
)
from portal.testing import actions

TODAY = date(2026, 11, 2)  # the test clock's today
TECHNO = "1С:ИТС ТЕХНО"
COUNTERPARTY = "1С:Контрагент"


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def share(price: str, start: date, end: date, period_start: date) -> Decimal:
    """``price`` for the days [start, end) of the period [period_start, end), actual days."""
    return cents(Decimal(price) * (end - start).days / (end - period_start).days)


@pytest.fixture
def lines(catalogue) -> dict[str, Product]:
    """Besides the demo's ИТС ПРОФ (38 000 a year): ИТС ТЕХНО of the same line (12 000, may
    move up to ПРОФ) and a licence of another line."""
    extra = add_demo_products(
        "Лицензии",
        [
            DemoProduct(
                TECHNO,
                ProductType.LICENCE,
                PLUGIN,
                {"annual": "12000.00"},
                upgrades_to=(demo.ITS,),
                plugin_fields={PLUGIN: {"kind": LICENCE, "product_line": "1С:ИТС"}},
            ),
            DemoProduct(
                COUNTERPARTY,
                ProductType.LICENCE,
                PLUGIN,
                {"annual": "3000.00"},
                plugin_fields={PLUGIN: {"kind": LICENCE, "product_line": "1С:Контрагент"}},
            ),
        ],
    )
    session().commit()
    return {**catalogue, **extra}


@pytest.fixture
def held(customer: Client, lines) -> dict[str, Service]:
    """1С-Отчётность since 15 January (the oldest service: the core's default to co-term with)
    and ИТС ТЕХНО since 1 March, both yearly, imported."""
    found = {
        demo.REPORTING: add_demo_service(
            customer, lines[demo.REPORTING], cycle="annual", start=date(2026, 1, 15)
        ),
        TECHNO: add_demo_service(customer, lines[TECHNO], cycle="annual", start=date(2026, 3, 1)),
    }
    session().commit()
    return found


def test_a_second_licence_of_a_line_is_co_terminated_with_the_first(
    customer, lines, held, clock
) -> None:
    service, invoice = actions.order_and_accept(
        customer, lines[demo.ITS], cycle="annual", today=TODAY
    )
    assert service.next_due_date == held[TECHNO].next_due_date == date(2027, 3, 1)
    expected = share("38000.00", TODAY, date(2027, 3, 1), date(2026, 3, 1))  # 119 of 365 days
    assert expected == Decimal("12389.04")
    assert invoice.total == expected

    record_payment(
        customer, amount=invoice.total, method="bank", reference="п/п 7", invoices=[invoice]
    )
    actions.run_provisioning(clock.now())
    [licence] = [x for x in licences_of(customer.id) if x.service_id == service.id]
    assert (licence.product_line, licence.organisation.is_primary) == ("1С:ИТС", True)


def test_a_licence_of_another_line_is_left_to_the_core(customer, lines, held) -> None:
    """No licence of its line yet: the core's choice, the oldest yearly service."""
    service, invoice = actions.order_and_accept(
        customer, lines[COUNTERPARTY], cycle="annual", today=TODAY
    )
    assert service.next_due_date == held[demo.REPORTING].next_due_date == date(2027, 1, 15)
    assert invoice.total == share("3000.00", TODAY, date(2027, 1, 15), date(2026, 1, 15))


def test_a_tariff_change_mid_term_runs_to_the_same_end_new_minus_unused_old(
    customer, lines, held
) -> None:
    techno = held[TECHNO]
    change = tariff_change(techno, lines[demo.ITS], TODAY)
    quote = change.quote
    assert (quote.days_remaining, quote.days_total) == (119, 365)
    assert quote.charge_period.end == techno.next_due_date == date(2027, 3, 1)
    assert not quote.next_due_moves
    new = share("38000.00", TODAY, date(2027, 3, 1), date(2026, 3, 1))
    unused_old = share("12000.00", TODAY, date(2027, 3, 1), date(2026, 3, 1))
    assert (
        (quote.charge, quote.credit)
        == (new, unused_old)
        == (
            Decimal("12389.04"),
            Decimal("3912.33"),
        )
    )
    assert (
        quote.difference
        == tariff_change_price(techno, lines[demo.ITS], TODAY)
        == (Decimal("8476.71"))
    )


def test_a_tariff_change_at_renewal_is_free(customer, lines, held) -> None:
    techno = held[TECHNO]
    assert tariff_change_price(techno, lines[demo.ITS], date(2027, 3, 1)) == Decimal("0.00")
    late_in_term = tariff_change_price(techno, lines[demo.ITS], date(2027, 2, 28))
    assert late_in_term == share(
        "38000.00", date(2027, 2, 28), date(2027, 3, 1), date(2026, 3, 1)
    ) - share("12000.00", date(2027, 2, 28), date(2027, 3, 1), date(2026, 3, 1))


def test_the_co_term_hook_answers_only_for_licences(customer, lines, held) -> None:
    from portal_onec.licences import running_licence

    assert running_licence(customer, lines[demo.ITS], Cycle.ANNUAL, TODAY) is held[TECHNO]
    assert running_licence(customer, lines[demo.TARIFF_START], Cycle.ANNUAL, TODAY) is None
    assert running_licence(customer, lines[demo.ITS], Cycle.MONTHLY, TODAY) is None
