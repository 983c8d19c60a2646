"""What the WHMCS money steps compute without a database (portal.imports.whmcs.billing)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.billing.cycles import Cycle
from portal.imports.whmcs.billing import (
    cycle_of,
    offered_prices,
    settled_status,
    split_tax,
    trailing_number,
)
from portal.invoicing.models import InvoiceStatus
from portal.invoicing.money_check import status_agrees

D = Decimal


def _pricing(**prices: str) -> dict[str, Decimal]:
    row = {
        column: D("-1.00")
        for column in (
            "monthly",
            "quarterly",
            "semiannually",
            "annually",
            "biennially",
            "triennially",
        )
    }
    row.update({f"{c}setupfee": D("0.00") for c in "mqsabt"})
    row.update({key: D(value) for key, value in prices.items()})
    return row


def test_cycles_priced_minus_one_or_zero_are_not_offered() -> None:
    offered, disabled = offered_prices(
        _pricing(monthly="1500.00", msetupfee="500.00", quarterly="0.00", annually="15300.00")
    )
    assert offered == [
        (Cycle.MONTHLY, D("1500.00"), D("500.00")),
        (Cycle.ANNUAL, D("15300.00"), D("0.00")),
    ]
    assert disabled == ["quarterly", "semiannually", "biennially", "triennially"]


def test_one_time_price_is_in_the_monthly_column() -> None:
    assert offered_prices(_pricing(monthly="5000.00"), one_time=True) == (
        [(Cycle.ONE_TIME, D("5000.00"), D("0.00"))],
        [],
    )


@pytest.mark.parametrize(
    ("whmcs", "portal"),
    [
        ("Monthly", Cycle.MONTHLY),
        ("Semi-Annually", Cycle.SEMI_ANNUAL),
        ("Biennially", Cycle.BIENNIAL),
        ("One Time", Cycle.ONE_TIME),
        ("Free Account", Cycle.FREE),
        ("Fortnightly", None),
    ],
)
def test_whmcs_cycle_names(whmcs: str, portal: Cycle | None) -> None:
    assert cycle_of(whmcs) is portal


def test_tax_is_shared_to_the_kopeck() -> None:
    shares = split_tax(D("8.98"), [D("9.99"), D("57.00"), D("0.00")])
    assert sum(shares) == D("8.98")
    assert shares[2] == D("0.00")
    assert split_tax(D("0.00"), []) == []


@pytest.mark.parametrize(
    ("number", "counter"), [("INV-000102", 102), ("57", 57), ("2025/14-A", 14), ("ABC", None)]
)
def test_the_counter_inside_a_number(number: str, counter: int | None) -> None:
    assert trailing_number(number) == counter


@pytest.mark.parametrize(
    ("status", "total", "paid", "settled"),
    [
        (InvoiceStatus.PAID, "2400.00", "2400.00", InvoiceStatus.PAID),
        (InvoiceStatus.PAID, "2400.00", "1900.00", InvoiceStatus.PARTIALLY_PAID),  # refunded part
        (InvoiceStatus.PAID, "0.00", "0.00", InvoiceStatus.PAID),
        (InvoiceStatus.UNPAID, "61.56", "30.00", InvoiceStatus.PARTIALLY_PAID),
        (InvoiceStatus.UNPAID, "0.00", "0.00", InvoiceStatus.UNPAID),
        (InvoiceStatus.REFUNDED, "1800.00", "0.00", InvoiceStatus.REFUNDED),
        (InvoiceStatus.CANCELLED, "1188.60", "0.00", InvoiceStatus.CANCELLED),
        (InvoiceStatus.CANCELLED, "1188.60", "100.00", InvoiceStatus.PARTIALLY_PAID),
        (InvoiceStatus.COLLECTIONS, "3600.00", "1000.00", InvoiceStatus.COLLECTIONS),
        (InvoiceStatus.PARTIALLY_PAID, "100.00", "0.00", InvoiceStatus.UNPAID),
        (InvoiceStatus.DRAFT, "5000.00", "0.00", InvoiceStatus.DRAFT),
    ],
)
def test_settled_status_is_what_the_money_check_expects(
    status: InvoiceStatus, total: str, paid: str, settled: InvoiceStatus
) -> None:
    result = settled_status(status, D(total), D(paid))
    assert result is settled
    if result is not InvoiceStatus.DRAFT:
        assert status_agrees(result, D(total), D(paid))
    assert settled_status(result, D(total), D(paid)) is result  # settling again changes nothing
