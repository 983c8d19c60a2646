"""Cycles, anchor days, periods and day counts, with their edge cases."""

from datetime import date

import pytest

from portal.billing import (
    Cycle,
    CycleNotRecurring,
    DayCount,
    InvalidDay,
    InvalidPeriod,
    Period,
    UnknownCycle,
    anchor_of,
    is_end_of_february,
    next_due,
    period_containing,
    periods_between,
)

ACTUAL, THIRTY = DayCount.ACTUAL, DayCount.THIRTY_360


# Cycles -----------------------------------------------------------------------------------------


def test_cycle_values_and_months():
    assert [(c.value, c.months) for c in Cycle] == [
        ("free", None),
        ("one_time", None),
        ("monthly", 1),
        ("quarterly", 3),
        ("semi_annual", 6),
        ("annual", 12),
        ("biennial", 24),
        ("triennial", 36),
    ]
    assert [c for c in Cycle if not c.is_recurring] == [Cycle.FREE, Cycle.ONE_TIME]


@pytest.mark.parametrize(
    ("text", "cycle"),
    [
        ("monthly", Cycle.MONTHLY),
        ("SEMI_ANNUAL", Cycle.SEMI_ANNUAL),
        ("semi-annual", Cycle.SEMI_ANNUAL),
        ("Semi-Annually", Cycle.SEMI_ANNUAL),
        ("One Time", Cycle.ONE_TIME),
        ("Free Account", Cycle.FREE),
        (" Annually ", Cycle.ANNUAL),
        ("Biennially", Cycle.BIENNIAL),
        ("triennial", Cycle.TRIENNIAL),
        (Cycle.QUARTERLY, Cycle.QUARTERLY),
    ],
)
def test_cycle_parse(text, cycle):
    assert Cycle.parse(text) is cycle


@pytest.mark.parametrize("bad", ["", "weekly", "month", None, 12])
def test_cycle_parse_refuses(bad):
    with pytest.raises(UnknownCycle):
        Cycle.parse(bad)


# next_due ---------------------------------------------------------------------------------------


def test_anchor_31_january_is_kept_across_short_months():
    start = date(2019, 1, 31)
    assert [next_due(start, Cycle.MONTHLY, n) for n in range(1, 13)] == [
        date(2019, 2, 28),
        date(2019, 3, 31),
        date(2019, 4, 30),
        date(2019, 5, 31),
        date(2019, 6, 30),
        date(2019, 7, 31),
        date(2019, 8, 31),
        date(2019, 9, 30),
        date(2019, 10, 31),
        date(2019, 11, 30),
        date(2019, 12, 31),
        date(2020, 1, 31),
    ]


def test_leap_february():
    assert next_due(date(2020, 1, 31), Cycle.MONTHLY) == date(2020, 2, 29)
    assert next_due(date(2020, 1, 29), Cycle.MONTHLY) == date(2020, 2, 29)
    assert next_due(date(2019, 1, 29), Cycle.MONTHLY) == date(2019, 2, 28)
    assert next_due(date(2019, 1, 29), Cycle.MONTHLY, 2) == date(2019, 3, 29)


def test_29_february_annual():
    start = date(2020, 2, 29)
    assert next_due(start, Cycle.ANNUAL) == date(2021, 2, 28)
    assert next_due(start, Cycle.ANNUAL, 4) == date(2024, 2, 29)
    assert next_due(date(2021, 2, 28), Cycle.ANNUAL, 3, anchor_day=29) == date(2024, 2, 29)
    assert next_due(start, Cycle.BIENNIAL) == date(2022, 2, 28)


def test_other_cycles():
    start = date(2019, 8, 31)
    assert next_due(start, Cycle.QUARTERLY) == date(2019, 11, 30)
    assert next_due(start, Cycle.SEMI_ANNUAL) == date(2020, 2, 29)
    assert next_due(start, Cycle.ANNUAL) == date(2020, 8, 31)
    assert next_due(start, Cycle.TRIENNIAL) == date(2022, 8, 31)
    assert next_due(start, Cycle.MONTHLY, 0) == start
    assert next_due(start, Cycle.MONTHLY, -6) == date(2019, 2, 28)


def test_anchor_day_for_a_clipped_start():
    assert next_due(date(2019, 2, 28), Cycle.MONTHLY) == date(2019, 3, 28)
    assert next_due(date(2019, 2, 28), Cycle.MONTHLY, anchor_day=30) == date(2019, 3, 30)
    assert next_due(date(2019, 2, 28), Cycle.MONTHLY, anchor_day=31) == date(2019, 3, 31)


@pytest.mark.parametrize("cycle", [Cycle.FREE, Cycle.ONE_TIME])
def test_free_and_one_time_have_no_due_dates(cycle):
    with pytest.raises(CycleNotRecurring):
        next_due(date(2019, 1, 1), cycle)
    with pytest.raises(CycleNotRecurring):
        period_containing(date(2019, 1, 1), cycle, date(2019, 2, 1))


@pytest.mark.parametrize("day", [0, 32, -1, True, "1"])
def test_anchor_day_must_be_a_day(day):
    with pytest.raises(InvalidDay):
        next_due(date(2019, 1, 1), Cycle.MONTHLY, anchor_day=day)


# Periods ----------------------------------------------------------------------------------------


def test_period_containing():
    start = date(2019, 1, 31)
    assert period_containing(start, Cycle.MONTHLY, start) == Period(start, date(2019, 2, 28))
    assert period_containing(start, Cycle.MONTHLY, date(2019, 2, 27)) == Period(
        start, date(2019, 2, 28)
    )
    assert period_containing(start, Cycle.MONTHLY, date(2019, 2, 28)) == Period(
        date(2019, 2, 28), date(2019, 3, 31)
    )
    assert period_containing(start, Cycle.MONTHLY, date(2019, 3, 31)) == Period(
        date(2019, 3, 31), date(2019, 4, 30)
    )
    half = period_containing(date(2019, 2, 1), Cycle.SEMI_ANNUAL, date(2019, 3, 4))
    assert half == Period(date(2019, 2, 1), date(2019, 8, 1))


def test_periods_between():
    start = date(2019, 1, 31)
    assert periods_between(start, start, Cycle.MONTHLY) == 0
    assert periods_between(start, date(2019, 2, 27), Cycle.MONTHLY) == 0
    assert periods_between(start, date(2019, 2, 28), Cycle.MONTHLY) == 1
    assert periods_between(start, date(2020, 1, 31), Cycle.MONTHLY) == 12
    assert periods_between(start, date(2020, 1, 30), Cycle.ANNUAL) == 0
    with pytest.raises(InvalidPeriod):
        periods_between(start, date(2019, 1, 1), Cycle.MONTHLY)


def test_period_label_and_last_day():
    period = Period(date(2019, 2, 1), date(2019, 8, 1))
    assert period.label() == "(01.02.2019 - 31.07.2019)"
    assert period.last_day == date(2019, 7, 31)
    assert date(2019, 2, 1) in period
    assert date(2019, 7, 31) in period
    assert date(2019, 8, 1) not in period
    assert "2019-02-01" not in period
    assert Period(date(2019, 12, 31), date(2020, 1, 1)).label() == "(31.12.2019 - 31.12.2019)"


def test_period_must_not_be_empty_or_reversed():
    with pytest.raises(InvalidPeriod):
        Period(date(2019, 2, 1), date(2019, 2, 1))
    with pytest.raises(InvalidPeriod):
        Period(date(2019, 2, 2), date(2019, 2, 1))


def test_period_is_frozen():
    period = Period(date(2019, 2, 1), date(2019, 8, 1))
    with pytest.raises(AttributeError):
        period.end = date(2019, 9, 1)


# Day counts -------------------------------------------------------------------------------------


def test_day_count_values_and_parse():
    assert DayCount.ACTUAL.value == "actual"
    assert DayCount.THIRTY_360.value == "30/360"
    assert DayCount.parse(" 30/360 ") is THIRTY
    assert DayCount.parse("ACTUAL") is ACTUAL


def test_actual_counts_calendar_days_including_leap_day():
    assert ACTUAL.days(date(2020, 2, 1), date(2020, 3, 1)) == 29
    assert ACTUAL.days(date(2019, 2, 1), date(2019, 3, 1)) == 28
    assert ACTUAL.days(date(2019, 2, 1), date(2019, 8, 1)) == 181
    assert ACTUAL.days(date(2020, 1, 1), date(2021, 1, 1)) == 366


def test_thirty_360_full_periods():
    assert THIRTY.days(date(2019, 2, 1), date(2019, 3, 1)) == 30
    assert THIRTY.days(date(2019, 2, 1), date(2019, 8, 1)) == 180
    assert THIRTY.days(date(2020, 1, 1), date(2021, 1, 1)) == 360


def test_thirty_360_day_31_counts_as_30():
    assert THIRTY.days(date(2019, 1, 1), date(2019, 1, 31)) == 29
    assert THIRTY.days(date(2019, 1, 30), date(2019, 1, 31)) == 0
    assert THIRTY.days(date(2019, 1, 31), date(2019, 2, 1)) == 1
    assert THIRTY.days(date(2019, 3, 31), date(2019, 4, 30)) == 30


def test_thirty_360_end_of_february_rule():
    # the last day of February counts as the 30th...
    assert THIRTY.days(date(2019, 2, 1), date(2019, 2, 28)) == 29
    assert THIRTY.days(date(2019, 2, 28), date(2019, 3, 1)) == 1
    assert THIRTY.days(date(2020, 2, 29), date(2020, 3, 1)) == 1
    assert THIRTY.days(date(2020, 2, 28), date(2020, 3, 1)) == 3  # 28 Feb 2020 is not the end
    assert THIRTY.days(date(2019, 1, 31), date(2019, 2, 28)) == 30
    assert THIRTY.days(date(2019, 2, 28), date(2019, 3, 31)) == 30
    assert THIRTY.days(date(2019, 8, 31), date(2020, 2, 29)) == 180
    # ... except as the renewal date of a service anchored on the 28th or 29th
    assert THIRTY.days(date(2019, 1, 28), date(2019, 2, 28)) == 30
    assert THIRTY.days(date(2019, 2, 28), date(2019, 3, 28)) == 30
    assert THIRTY.days(date(2019, 1, 29), date(2019, 2, 28)) == 30
    assert THIRTY.days(date(2019, 2, 28), date(2019, 3, 29)) == 30
    assert THIRTY.days(date(2020, 1, 29), date(2020, 2, 29)) == 30
    assert THIRTY.days(date(2020, 2, 29), date(2021, 2, 28)) == 360
    assert THIRTY.days(date(2023, 2, 28), date(2024, 2, 29)) == 360


def test_thirty_360_explicit_anchor_for_a_piece_of_a_period():
    # period 28 Jan -> 28 Feb 2019 (anchor 28): the last day counts as the 28th
    assert THIRTY.days(date(2019, 2, 10), date(2019, 2, 28), anchor_day=28) == 18
    # period 31 Jan -> 28 Feb 2019 (anchor 31): it counts as the 30th
    assert THIRTY.days(date(2019, 2, 10), date(2019, 2, 28), anchor_day=31) == 20
    assert ACTUAL.days(date(2019, 2, 10), date(2019, 2, 28), anchor_day=31) == 18


def test_anchor_of():
    assert anchor_of(date(2019, 1, 31), date(2019, 2, 28)) == 31
    assert anchor_of(date(2019, 2, 28), date(2019, 3, 31)) == 31
    assert anchor_of(date(2019, 1, 28), date(2019, 2, 28)) == 28
    assert anchor_of(date(2020, 2, 29), date(2021, 2, 28)) == 29
    assert anchor_of(date(2019, 4, 30), date(2019, 5, 31)) == 31
    assert is_end_of_february(date(2019, 2, 28))
    assert not is_end_of_february(date(2020, 2, 28))
    assert is_end_of_february(date(2020, 2, 29))


def test_days_refuses_reversed_dates():
    with pytest.raises(InvalidPeriod):
        ACTUAL.days(date(2019, 2, 2), date(2019, 2, 1))
    assert ACTUAL.days(date(2019, 2, 1), date(2019, 2, 1)) == 0
