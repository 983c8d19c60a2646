"""Properties of the billing rules, checked on generated dates, prices and invoices."""

from datetime import date, timedelta
from decimal import Decimal as D
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from portal.billing import (
    Component,
    Cycle,
    DayCount,
    FloatNotAllowed,
    LineTax,
    Period,
    PromoCode,
    PromoKind,
    Terms,
    allocate,
    charge_line,
    check_coefficient,
    check_price,
    draft_invoice,
    next_due,
    period_containing,
    periods_between,
    promo_line,
    prorate,
    proration_days,
    quantum,
    quote_change,
    round_money,
)
from portal.billing.cycles import recurring_months

#: Local settings rather than a global profile: the rest of the suite keeps its own defaults.
examples = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

RECURRING = [cycle for cycle in Cycle if cycle.is_recurring]
CURRENCIES = st.sampled_from(["RUB", "JPY", "BHD"])
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
cycles = st.sampled_from(RECURRING)
day_counts = st.sampled_from(list(DayCount))
prices = st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False)
coefficients = st.decimals(min_value=0, max_value=3, places=4)
percents = st.sampled_from([D(0), D(10), D(18), D(20), D(22), D("12.5")])


def _month_length(day):
    return (next_due(day.replace(day=1), Cycle.MONTHLY) - day.replace(day=1)).days


@st.composite
def periods_with_cuts(draw):
    """A service period (from an anchor, a cycle and an index) and sorted days inside it."""
    start, cycle = draw(dates), draw(cycles)
    index = draw(st.integers(min_value=0, max_value=24))
    period = Period(next_due(start, cycle, index), next_due(start, cycle, index + 1))
    length = (period.end - period.start).days
    offsets = draw(
        st.lists(st.integers(min_value=1, max_value=length - 1), max_size=6, unique=True)
    )
    cuts = [period.start, *sorted(period.start + timedelta(days=o) for o in offsets), period.end]
    return period, cuts


# Due dates --------------------------------------------------------------------------------------


@examples
@given(dates, cycles, st.integers(min_value=-40, max_value=40))
def test_next_due_keeps_the_anchor_day(start, cycle, periods):
    due = next_due(start, cycle, periods)
    months = recurring_months(cycle) * periods
    assert (due.year * 12 + due.month) - (start.year * 12 + start.month) == months
    assert due.day == min(start.day, _month_length(due))


@examples
@given(dates, cycles, st.integers(min_value=0, max_value=30), st.integers(min_value=0, max_value=9))
def test_next_due_from_a_clipped_date_with_the_anchor_is_the_same(start, cycle, first, second):
    middle = next_due(start, cycle, first)
    chained = next_due(middle, cycle, second, anchor_day=start.day)
    assert chained == next_due(start, cycle, first + second)


@examples
@given(dates, cycles, st.integers(min_value=-30, max_value=30))
def test_due_dates_strictly_increase(start, cycle, periods):
    assert next_due(start, cycle, periods) < next_due(start, cycle, periods + 1)


@examples
@given(dates, cycles, st.integers(min_value=0, max_value=4000))
def test_period_containing_contains_the_day(start, cycle, offset):
    day = start + timedelta(days=offset)
    period = period_containing(start, cycle, day)
    assert day in period
    count = periods_between(start, day, cycle)
    assert period.start == next_due(start, cycle, count)
    assert period.end == next_due(start, cycle, count + 1)


# Day counts -------------------------------------------------------------------------------------


@examples
@given(dates, cycles, st.integers(min_value=-20, max_value=20))
def test_thirty_360_full_period_is_30_days_a_month_for_every_anchor(start, cycle, index):
    period = Period(next_due(start, cycle, index), next_due(start, cycle, index + 1))
    assert period.days(DayCount.THIRTY_360) == 30 * recurring_months(cycle)
    assert DayCount.THIRTY_360.days(period.start, period.end) == 30 * recurring_months(cycle)
    assert period.days(DayCount.ACTUAL) == (period.end - period.start).days


@examples
@given(periods_with_cuts(), day_counts)
def test_days_of_pieces_add_up_to_the_period(sample, day_count):
    period, cuts = sample
    total = proration_days(period.start, period.end, period.start, period.end, day_count)[1]
    pieces = [
        proration_days(period.start, period.end, a, b, day_count)[0] for a, b in pairwise(cuts)
    ]
    assert sum(pieces) == total
    assert all(piece >= 0 for piece in pieces)


# Proration --------------------------------------------------------------------------------------


@examples
@given(periods_with_cuts(), day_counts, prices, CURRENCIES)
def test_prorated_pieces_add_up_to_the_full_price(sample, day_count, amount, currency):
    period, cuts = sample
    pieces = [
        prorate(amount, period.start, period.end, a, day_count, currency, until=b)
        for a, b in pairwise(cuts)
    ]
    full = round_money(amount, currency)
    assert abs(sum(pieces) - full) <= quantum(currency) * len(pieces)
    weights = [
        proration_days(period.start, period.end, a, b, day_count)[0] for a, b in pairwise(cuts)
    ]
    exact = allocate(full, weights, currency)
    assert sum(exact) == full
    assert all(abs(x - p) <= quantum(currency) for x, p in zip(exact, pieces, strict=True))


@examples
@given(
    periods_with_cuts(),
    day_counts,
    prices,
    st.integers(min_value=0, max_value=50),
    coefficients,
    CURRENCIES,
)
def test_a_prorated_line_adds_up_as_printed(sample, day_count, price, units, factor, currency):
    """quantity x unit price is the line's list amount, and the amount is the list amount less
    the discount: what a document prints adds up, whatever the days and the quantity."""
    period, cuts = sample
    covered = Period(cuts[-2], period.end)
    line = charge_line(
        "X", price, currency, quantity=units, period=covered, full_period=period,
        day_count=day_count, coefficient=factor,
    )  # fmt: skip
    days, total = proration_days(period.start, period.end, covered.start, covered.end, day_count)
    assume(days != total)  # a whole period keeps its price (up to 4 places) as it was
    assert line.quantity * line.unit_price == line.list_amount
    assert line.list_amount - line.discount == line.amount
    assert line.description.endswith(f", {days} из {total} дн.)")
    assert line.unit_price == round_money(line.unit_price, currency)


@examples
@given(periods_with_cuts(), day_counts, prices)
def test_prorate_is_symmetric_for_negative_amounts(sample, day_count, amount):
    period, cuts = sample
    positive = prorate(amount, period.start, period.end, cuts[1], day_count, "RUB")
    assert prorate(-amount, period.start, period.end, cuts[1], day_count, "RUB") == -positive


@examples
@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=12).filter(any),
)
def test_allocation_is_exact_and_close_to_the_shares(total, weights):
    parts = allocate(total, weights, "RUB")
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part - total * weight / sum(weights)) < D("0.01")


# Changes ----------------------------------------------------------------------------------------


@examples
@given(periods_with_cuts(), day_counts, prices, prices)
def test_change_and_reverse_on_the_same_day_net_to_zero(sample, day_count, old, new):
    period, cuts = sample
    cycle_months = {c.months: c for c in RECURRING}
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month
    cycle = cycle_months[months]
    day = cuts[1] if cuts[1] < period.end else period.start
    a, b = Terms(cycle, old), Terms(cycle, new)
    there = quote_change(a, b, day, period, day_count, "RUB")
    back = quote_change(b, a, day, period, day_count, "RUB")
    assert there.difference + back.difference == 0
    assert there.days_used + there.days_remaining == there.days_total
    assert there.to_credit_balance == back.amount_due
    assert there.next_due == period.end and not there.next_due_moves


@examples
@given(dates, cycles, day_counts, prices)
def test_free_to_paid_and_back_on_the_same_day_nets_to_zero(day, cycle, day_count, price):
    free, paid = Terms(Cycle.FREE, 0), Terms(cycle, price)
    up = quote_change(free, paid, day, None, day_count, "RUB")
    down = quote_change(paid, free, day, up.charge_period, day_count, "RUB")
    assert up.difference + down.difference == 0


# Invoices ---------------------------------------------------------------------------------------


@st.composite
def invoice_lines(draw):
    currency = draw(CURRENCIES)
    lines = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        line = charge_line(
            "line",
            draw(prices),
            currency,
            quantity=draw(st.integers(min_value=0, max_value=1000)),
            coefficient=draw(coefficients),
            line_tax=LineTax(draw(percents), draw(st.booleans())),
            component=draw(st.sampled_from(list(Component))),
        )
        lines.append(line)
        if draw(st.booleans()):
            kind = draw(st.sampled_from(list(PromoKind)))
            value = draw(st.decimals(min_value=D("0.0001"), max_value=100, places=4))
            lines.append(promo_line(PromoCode("P", kind, value, "promo"), line))
    return currency, lines


@examples
@given(invoice_lines(), st.decimals(min_value=0, max_value=10**6, places=0))
def test_totals_equal_the_sum_of_lines(sample, credit):
    currency, lines = sample
    draft = draft_invoice(lines, currency, credit_available=credit)
    assert draft.subtotal == sum((line.net for line in lines), D(0))
    assert draft.tax == sum((line.tax for line in lines), D(0))
    assert draft.discount == sum((line.discount for line in lines), D(0))
    assert draft.total == sum((line.total for line in lines), D(0))
    assert draft.total == draft.subtotal + draft.tax
    assert draft.due == draft.total - draft.credit_applied
    assert 0 <= draft.credit_applied <= min(credit, max(draft.total, 0))
    for line in lines:
        assert line.net + line.tax == line.total
        assert line.list_amount - line.discount == line.amount
        for value in (line.net, line.tax, line.total, line.amount, line.discount):
            assert value == round_money(value, currency)
    assert draft.total >= 0  # a promo never takes more than its line


# No floats --------------------------------------------------------------------------------------


floats = st.floats(allow_nan=True, allow_infinity=True)


@examples
@given(floats)
@pytest.mark.parametrize(
    "entry",
    [
        lambda x: round_money(x, "RUB"),
        lambda x: check_price(x),
        lambda x: check_coefficient(x),
        lambda x: prorate(
            x, date(2019, 2, 1), date(2019, 8, 1), date(2019, 2, 8), DayCount.ACTUAL, "RUB"
        ),
        lambda x: allocate(x, [1, 2], "RUB"),
        lambda x: allocate(D(1), [x], "RUB"),
        lambda x: charge_line("x", x, "RUB"),
        lambda x: charge_line("x", D(1), "RUB", coefficient=x),
        lambda x: Terms(Cycle.MONTHLY, x),
        lambda x: LineTax(x),
    ],
)
def test_a_float_never_gets_in(entry, value):
    with pytest.raises(FloatNotAllowed):
        entry(value)
