"""Proration, co-terming and the billing day."""

from datetime import date
from decimal import Decimal as D

import pytest

from portal.billing import (
    Cycle,
    DateOutsidePeriod,
    DayCount,
    InvalidDay,
    Period,
    UnknownDayCount,
    co_terminate,
    first_period_with_billing_day,
    next_due,
    prorate,
    proration_days,
)

ACTUAL, THIRTY = DayCount.ACTUAL, DayCount.THIRTY_360
HALF = Period(date(2019, 2, 1), date(2019, 8, 1))


@pytest.mark.parametrize(
    ("day_count", "days", "total", "amount"),
    [(ACTUAL, 174, 181, D("346.08")), (THIRTY, 173, 180, D("346.00"))],
)
def test_addon_bought_on_8_february(day_count, days, total, amount):
    addon = co_terminate(D("360.00"), HALF, date(2019, 2, 8), day_count, "RUB")
    assert addon.period == Period(date(2019, 2, 8), HALF.end)
    assert addon.period.label() == "(08.02.2019 - 31.07.2019)"
    assert (addon.days, addon.total_days, addon.amount, addon.day_count) == (
        days,
        total,
        amount,
        day_count,
    )


def test_change_day_is_billed_to_the_new_state():
    assert prorate(D("181.00"), HALF.start, HALF.end, date(2019, 7, 31), ACTUAL, "RUB") == D("1.00")
    assert prorate(D("181.00"), HALF.start, HALF.end, HALF.start, ACTUAL, "RUB") == D("181.00")
    assert prorate(D("181.00"), HALF.start, HALF.end, HALF.end, ACTUAL, "RUB") == D("0.00")


def test_prorate_until():
    first_week = prorate(
        D("181.00"), HALF.start, HALF.end, HALF.start, ACTUAL, "RUB", until=date(2019, 2, 8)
    )
    assert first_week == D("7.00")


def test_prorate_jpy_has_no_decimals():
    amount = prorate(D(10000), HALF.start, HALF.end, date(2019, 2, 8), ACTUAL, "JPY")
    assert amount == D(9613)
    assert amount.as_tuple().exponent == 0


def test_prorate_rounds_once_half_up():
    # 0.02 x 1/8 per day... a value exactly on a half rounds up, once
    period = Period(date(2019, 3, 1), date(2019, 3, 9))  # 8 days
    assert prorate(D("0.04"), period.start, period.end, date(2019, 3, 2), ACTUAL, "RUB") == D(
        "0.04"
    )  # 0.035 -> 0.04
    assert prorate(D("-0.04"), period.start, period.end, date(2019, 3, 2), ACTUAL, "RUB") == D(
        "-0.04"
    )


def test_leap_year_period():
    period = Period(date(2020, 2, 1), date(2020, 3, 1))
    assert prorate(D("2900.00"), period.start, period.end, date(2020, 2, 29), ACTUAL, "RUB") == D(
        "100.00"
    )
    assert prorate(D("3000.00"), period.start, period.end, date(2020, 2, 29), THIRTY, "RUB") == D(
        "100.00"
    )


def test_thirty_360_uses_the_period_anchor():
    # anchor 28: 10 Feb -> 28 Feb is 18 of 30; anchor 31: 20 of 30
    assert prorate(
        D("300.00"), date(2019, 1, 28), date(2019, 2, 28), date(2019, 2, 10), THIRTY, "RUB"
    ) == D("180.00")
    assert prorate(
        D("300.00"), date(2019, 1, 31), date(2019, 2, 28), date(2019, 2, 10), THIRTY, "RUB"
    ) == D("200.00")
    assert proration_days(
        date(2019, 1, 28), date(2019, 2, 28), date(2019, 2, 10), date(2019, 2, 28), THIRTY
    ) == (18, 30)


def test_dates_outside_the_period_are_refused():
    with pytest.raises(DateOutsidePeriod):
        prorate(D(1), HALF.start, HALF.end, date(2019, 1, 31), ACTUAL, "RUB")
    with pytest.raises(DateOutsidePeriod):
        prorate(D(1), HALF.start, HALF.end, HALF.start, ACTUAL, "RUB", until=date(2019, 8, 2))
    with pytest.raises(DateOutsidePeriod):
        co_terminate(D(1), HALF, HALF.end, ACTUAL, "RUB")


def test_unknown_day_count_is_refused():
    with pytest.raises(UnknownDayCount):
        prorate(D(1), HALF.start, HALF.end, HALF.start, "30/365", "RUB")


def test_day_count_given_as_its_stored_string():
    assert prorate(D("360.00"), HALF.start, HALF.end, date(2019, 2, 8), "30/360", "RUB") == D(
        "346.00"
    )


def test_billing_day_first_period_then_full_periods():
    first = first_period_with_billing_day(
        date(2019, 1, 15), Cycle.MONTHLY, 1, D("3100.00"), ACTUAL, "RUB"
    )
    assert first.period == Period(date(2019, 1, 15), date(2019, 2, 1))
    assert (first.days, first.total_days, first.amount) == (17, 31, D("1700.00"))
    following = Period(first.period.end, next_due(first.period.end, Cycle.MONTHLY))
    assert following.label() == "(01.02.2019 - 28.02.2019)"


def test_billing_day_on_the_billing_day_is_a_full_period():
    first = first_period_with_billing_day(
        date(2019, 2, 1), Cycle.QUARTERLY, 1, D("900.00"), THIRTY, "RUB"
    )
    assert first.period == Period(date(2019, 2, 1), date(2019, 5, 1))
    assert (first.days, first.total_days, first.amount) == (90, 90, D("900.00"))


def test_billing_day_late_in_the_month():
    first = first_period_with_billing_day(
        date(2019, 1, 31), Cycle.MONTHLY, 1, D("3000.00"), THIRTY, "RUB"
    )
    assert first.period == Period(date(2019, 1, 31), date(2019, 2, 1))
    assert (first.days, first.total_days, first.amount) == (1, 30, D("100.00"))


def test_billing_day_31_is_clipped():
    first = first_period_with_billing_day(
        date(2019, 2, 10), Cycle.MONTHLY, 31, D("3000.00"), THIRTY, "RUB"
    )
    assert first.period == Period(date(2019, 2, 10), date(2019, 2, 28))
    assert (first.days, first.total_days) == (20, 30)


def test_billing_day_must_be_a_day():
    with pytest.raises(InvalidDay):
        first_period_with_billing_day(date(2019, 2, 10), Cycle.MONTHLY, 0, D(1), ACTUAL, "RUB")
