"""Upgrades and downgrades of price, quantity and cycle."""

from datetime import date
from decimal import Decimal as D

import pytest

from portal.billing import (
    ChangeQuote,
    Cycle,
    DateOutsidePeriod,
    DayCount,
    OneTimeNotChangeable,
    Period,
    PriceList,
    ProductPrice,
    QuantityOption,
    ShorterCycleMidTerm,
    Terms,
    quote_change,
)

ACTUAL, THIRTY = DayCount.ACTUAL, DayCount.THIRTY_360
HALF = Period(date(2019, 2, 1), date(2019, 8, 1))
USERS = QuantityOption(
    "Количество пользователей",
    "Пользователь",
    PriceList("RUB", {Cycle.SEMI_ANNUAL: D("4800.00")}),
    minimum=1,
)
BASE = PriceList("RUB", {Cycle.SEMI_ANNUAL: 0})


def users(count):
    return Terms(Cycle.SEMI_ANNUAL, ProductPrice(BASE, (USERS.select(count),)).price("semi_annual"))


def test_quantity_upgrade_5_to_6_users():
    quote = quote_change(users(5), users(6), date(2019, 3, 4), HALF, ACTUAL, "RUB")
    assert (quote.days_used, quote.days_remaining, quote.days_total) == (31, 150, 181)
    assert (quote.credit, quote.charge) == (D("19889.50"), D("23867.40"))
    assert quote.difference == quote.amount_due == D("3977.90")
    assert quote.to_credit_balance == 0
    assert quote.charge_period == Period(date(2019, 3, 4), HALF.end)
    assert (quote.next_due, quote.next_due_moves) == (HALF.end, False)
    assert quote.day_count is ACTUAL


def test_quantity_upgrade_under_thirty_360():
    quote = quote_change(users(5), users(6), date(2019, 3, 4), HALF, THIRTY, "RUB")
    assert (quote.days_used, quote.days_remaining, quote.days_total) == (33, 147, 180)
    assert quote.difference == D("3920.00")


def test_downgrade_goes_to_credit_balance():
    quote = quote_change(users(6), users(4), date(2019, 5, 1), HALF, ACTUAL, "RUB")
    assert quote.difference < 0
    assert quote.amount_due == 0
    # 92 of 181 days left: each price is prorated and rounded on its own
    assert (quote.credit, quote.charge) == (D("14638.67"), D("9759.12"))
    assert quote.to_credit_balance == -quote.difference == D("4879.55")


def test_reverse_change_same_day_nets_to_zero():
    up = quote_change(users(5), users(9), date(2019, 6, 17), HALF, THIRTY, "RUB")
    down = quote_change(users(9), users(5), date(2019, 6, 17), HALF, THIRTY, "RUB")
    assert up.difference + down.difference == 0


def test_change_on_the_first_day_swaps_whole_prices():
    quote = quote_change(users(5), users(6), HALF.start, HALF, ACTUAL, "RUB")
    assert (quote.credit, quote.charge) == (D("24000.00"), D("28800.00"))


def test_change_date_must_be_in_the_current_period():
    with pytest.raises(DateOutsidePeriod):
        quote_change(users(5), users(6), HALF.end, HALF, ACTUAL, "RUB")
    with pytest.raises(DateOutsidePeriod):
        quote_change(users(5), users(6), date(2019, 1, 31), HALF, ACTUAL, "RUB")


def test_free_to_paid_starts_a_new_period():
    quote = quote_change(
        Terms(Cycle.FREE, 0),
        Terms(Cycle.ANNUAL, D("12000")),
        date(2020, 2, 29),
        None,
        ACTUAL,
        "RUB",
    )
    assert quote.credit == D("0.00")
    assert quote.charge == quote.difference == D("12000.00")
    assert quote.charge_period == Period(date(2020, 2, 29), date(2021, 2, 28))
    assert (quote.next_due, quote.next_due_moves) == (date(2021, 2, 28), True)
    assert (quote.days_used, quote.days_remaining, quote.days_total) == (0, 365, 365)


def test_free_to_free_costs_nothing():
    quote = quote_change(
        Terms(Cycle.FREE, 0), Terms(Cycle.FREE, 0), date(2020, 2, 29), None, ACTUAL, "RUB"
    )
    assert (quote.difference, quote.next_due, quote.next_due_moves) == (0, None, False)
    assert quote.charge_period is None


def test_paid_to_free_credits_the_rest():
    quote = quote_change(
        Terms(Cycle.MONTHLY, D("3000")),
        Terms(Cycle.FREE, 0),
        date(2019, 3, 11),
        Period(date(2019, 3, 1), date(2019, 4, 1)),
        THIRTY,
        "RUB",
    )
    assert (quote.credit, quote.charge, quote.to_credit_balance) == (
        D("2000.00"),
        D("0.00"),
        D("2000.00"),
    )
    assert (quote.next_due, quote.next_due_moves, quote.charge_period) == (None, True, None)


def test_longer_cycle_keeps_the_anchor():
    period = Period(date(2019, 1, 31), date(2019, 2, 28))
    quote = quote_change(
        Terms(Cycle.MONTHLY, D("1000")),
        Terms(Cycle.QUARTERLY, D("2700")),
        date(2019, 2, 10),
        period,
        THIRTY,
        "RUB",
    )
    assert quote.next_due == date(2019, 4, 30)
    assert quote.next_due_moves
    # 30/360 with anchor 31: 10 Feb -> 30 Apr is 80 of 90 days, 10 Feb -> 28 Feb 20 of 30
    assert (quote.credit, quote.charge) == (D("666.67"), D("2400.00"))
    assert quote.days_remaining == 20


def test_shorter_cycle_mid_term_is_refused():
    with pytest.raises(ShorterCycleMidTerm):
        quote_change(
            Terms(Cycle.QUARTERLY, D("2700")),
            Terms(Cycle.MONTHLY, D("1000")),
            date(2019, 2, 10),
            Period(date(2019, 1, 1), date(2019, 4, 1)),
            ACTUAL,
            "RUB",
        )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (Terms(Cycle.ONE_TIME, D(10)), Terms(Cycle.MONTHLY, D(10))),
        (Terms(Cycle.MONTHLY, D(10)), Terms(Cycle.ONE_TIME, D(10))),
        (Terms(Cycle.FREE, 0), Terms(Cycle.ONE_TIME, D(10))),
    ],
)
def test_one_time_cannot_change(old, new):
    with pytest.raises(OneTimeNotChangeable):
        quote_change(
            old, new, date(2019, 3, 1), Period(date(2019, 3, 1), date(2019, 4, 1)), ACTUAL, "RUB"
        )


def test_quote_is_frozen_and_terms_normalise_cycle():
    quote = quote_change(users(5), users(6), date(2019, 3, 4), HALF, ACTUAL, "RUB")
    assert isinstance(quote, ChangeQuote)
    with pytest.raises(AttributeError):
        quote.charge = D(0)
    assert Terms("Semi-Annually", D(1)).cycle is Cycle.SEMI_ANNUAL
