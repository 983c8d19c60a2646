"""Billing cycles and renewal dates that remember their anchor day.

A service started on 31 January renews on 28 (29) February and then on 31 March, not on
28 March: every due date is computed from the anchor (the start date plus whole months, with the
day clipped to the month's length), never by chaining clipped dates.
"""

from __future__ import annotations

from calendar import isleap
from datetime import date
from enum import StrEnum

from portal.billing.daycount import check_day
from portal.billing.errors import (
    CycleNotRecurring,
    DateBeforeStart,
    InvalidPeriod,
    InvalidPeriodCount,
    UnknownCycle,
)
from portal.billing.periods import Period


class Cycle(StrEnum):
    """How often a service is billed; the values are what settings and the database store."""

    FREE = "free"
    ONE_TIME = "one_time"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMI_ANNUAL = "semi_annual"
    ANNUAL = "annual"
    BIENNIAL = "biennial"
    TRIENNIAL = "triennial"

    @property
    def months(self) -> int | None:
        """Length in months; ``None`` for free and one-time services, which never renew."""
        return _MONTHS[self]

    @property
    def is_recurring(self) -> bool:
        return _MONTHS[self] is not None

    @classmethod
    def parse(cls, value: str) -> Cycle:
        """Read a cycle from a setting or an import: ``"semi_annual"``, ``"Semi-Annually"``...

        WHMCS spellings are accepted so that an export from it imports as it is.
        """
        if isinstance(value, str):
            key = value.strip().lower().replace("-", "_").replace(" ", "_")
            found = _ALIASES.get(key)
            if found is not None:
                return found
        raise UnknownCycle(value=value)


_MONTHS: dict[Cycle, int | None] = {
    Cycle.FREE: None,
    Cycle.ONE_TIME: None,
    Cycle.MONTHLY: 1,
    Cycle.QUARTERLY: 3,
    Cycle.SEMI_ANNUAL: 6,
    Cycle.ANNUAL: 12,
    Cycle.BIENNIAL: 24,
    Cycle.TRIENNIAL: 36,
}

_ALIASES: dict[str, Cycle] = {
    **{cycle.value: cycle for cycle in Cycle},
    "free_account": Cycle.FREE,
    "onetime": Cycle.ONE_TIME,
    "semi_annually": Cycle.SEMI_ANNUAL,
    "semiannually": Cycle.SEMI_ANNUAL,
    "annually": Cycle.ANNUAL,
    "biennially": Cycle.BIENNIAL,
    "triennially": Cycle.TRIENNIAL,
}

_MONTH_LENGTHS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def recurring_months(cycle: Cycle) -> int:
    """Months of a recurring ``cycle``; free and one-time cycles raise CycleNotRecurring."""
    months = _MONTHS.get(cycle)
    if months is None:
        raise CycleNotRecurring(cycle=cycle)
    return months


def add_months(start: date, months: int, anchor_day: int) -> date:
    """The date ``months`` after ``start``'s month on ``anchor_day``, clipped to the month end."""
    year, month_index = divmod(start.year * 12 + start.month - 1 + months, 12)
    length = 29 if month_index == 1 and isleap(year) else _MONTH_LENGTHS[month_index]
    return date(year, month_index + 1, min(anchor_day, length))


def _anchor(start: date, anchor_day: int | None) -> int:
    return start.day if anchor_day is None else check_day(anchor_day, "Anchor day")


def next_due(start: date, cycle: Cycle, periods: int = 1, anchor_day: int | None = None) -> date:
    """The due date ``periods`` cycles after ``start`` (negative: before it).

    ``anchor_day`` defaults to ``start.day``; pass the original day when ``start`` is itself a
    clipped date (28 February of a service anchored on the 31st), or compute every due date from
    the service's first start with ``periods=n``.
    """
    if periods.__class__ is not int:
        raise InvalidPeriodCount(value=periods)
    return add_months(start, recurring_months(cycle) * periods, _anchor(start, anchor_day))


def period_containing(start: date, cycle: Cycle, on: date, anchor_day: int | None = None) -> Period:
    """The period of a service started on ``start`` that contains the day ``on``."""
    months = recurring_months(cycle)
    if on < start:
        raise DateBeforeStart(date=on, start=start)
    anchor = _anchor(start, anchor_day)
    index = ((on.year - start.year) * 12 + on.month - start.month) // months
    begin = add_months(start, index * months, anchor)
    if begin > on:
        index -= 1
        begin = add_months(start, index * months, anchor)
    return Period(begin, add_months(start, (index + 1) * months, anchor))


def periods_between(start: date, end: date, cycle: Cycle, anchor_day: int | None = None) -> int:
    """How many whole periods of ``cycle`` fit between ``start`` and ``end``."""
    months = recurring_months(cycle)
    if end < start:
        raise InvalidPeriod(start=start, end=end)
    anchor = _anchor(start, anchor_day)
    count = ((end.year - start.year) * 12 + end.month - start.month) // months
    if add_months(start, count * months, anchor) > end:
        count -= 1
    return count
