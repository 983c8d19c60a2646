"""Proration: the part of a period's price that falls on some of its days.

``amount x days(from, end) / days(start, end)`` under the product's day-count convention, rounded
once, half up. The day of a change is billed to the new state: ``from`` is counted as remaining.

Co-terming makes every line of a client end on the same date: an add-on, an extra quantity or a
second product bought mid-period runs from the purchase date to the end of the main service's
current period. A billing day (e.g. the 1st) aligns a new service so that its periods end on the
last day of a month: the first period runs to the next billing day and is prorated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.billing.cycles import Cycle, add_months, recurring_months
from portal.billing.daycount import DayCount, anchor_of, check_day, count_days
from portal.billing.errors import DateOutsidePeriod, InvalidPeriod
from portal.billing.money import check_amount, scale
from portal.billing.periods import Period


def proration_days(
    period_start: date, period_end: date, first: date, last: date, day_count: DayCount
) -> tuple[int, int]:
    """``(days of [first, last), days of [period_start, period_end))`` under ``day_count``.

    Both are counted with the period's anchor day, so the pieces of a period add up to it.
    """
    if not period_start <= first <= last <= period_end:
        outside = first if not period_start <= first <= period_end else last
        raise DateOutsidePeriod(date=outside, start=period_start, end=period_end)
    anchor = anchor_of(period_start, period_end)
    total = count_days(day_count, period_start, period_end, anchor)
    if total <= 0:
        raise InvalidPeriod(start=period_start, end=period_end)
    return count_days(day_count, first, last, anchor), total


def prorate(
    amount: Decimal,
    period_start: date,
    period_end: date,
    from_date: date,
    day_count: DayCount,
    currency: str,
    *,
    until: date | None = None,
) -> Decimal:
    """The part of ``amount`` (the price of the whole period) for ``[from_date, until)``.

    ``until`` defaults to the period end: the usual question is what the rest of the period is
    worth from the day of a change.
    """
    amount = check_amount(amount)
    days, total = proration_days(
        period_start, period_end, from_date, period_end if until is None else until, day_count
    )
    return scale(amount, days, total, currency)


@dataclass(frozen=True, slots=True)
class Proration:
    """A prorated charge: ``amount`` for ``period``, worth ``days`` of ``total_days``."""

    period: Period
    amount: Decimal
    days: int
    total_days: int
    day_count: DayCount


def _prorated(
    amount: Decimal | int, full: Period, start: date, day_count: DayCount, currency: str
) -> Proration:
    price = check_amount(amount)
    days, total = proration_days(full.start, full.end, start, full.end, day_count)
    return Proration(
        Period(start, full.end), scale(price, days, total, currency), days, total, day_count
    )


def co_terminate(
    amount: Decimal, main_period: Period, start: date, day_count: DayCount, currency: str
) -> Proration:
    """An add-on bought on ``start``, billed to the end of the main service's current period.

    ``amount`` is the add-on's price for a whole period of the main service's cycle.
    """
    if start not in main_period:
        raise DateOutsidePeriod(date=start, start=main_period.start, end=main_period.end)
    return _prorated(amount, main_period, start, day_count, currency)


def first_period_with_billing_day(
    start: date,
    cycle: Cycle,
    billing_day: int,
    amount: Decimal,
    day_count: DayCount,
    currency: str,
) -> Proration:
    """The first period of a service aligned to ``billing_day``, and its prorated price.

    It runs from ``start`` to the next billing day and costs the matching part of the full
    period ending there; full periods follow from that date, renewing on ``billing_day``
    (``next_due(result.period.end, cycle)``). A service started on its billing day gets a full
    first period.
    """
    months = recurring_months(cycle)
    day = check_day(billing_day, "Billing day")
    due = add_months(start, 0, day)
    if due < start:
        due = add_months(start, 1, day)
    if due == start:
        full = Period(start, add_months(start, months, day))
    else:
        full = Period(add_months(due, -months, day), due)
    return _prorated(amount, full, start, day_count, currency)
