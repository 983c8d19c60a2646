"""Day-count conventions: how many days a stretch of time counts for proration.

``actual`` counts calendar days. ``30/360`` counts every month as 30 days, as accountants who
prorate by hand do, so that a month is worth the same in February as in March.

The 30/360 formula (30E/360 with the US end-of-February rule on both dates)::

    days = 360 x (Y2 - Y1) + 30 x (M2 - M1) + (D2' - D1')

    D' = min(D, 30)               day 31 counts as day 30;
    D' = 30 on the last day of February,
         unless that date is the anniversary of an anchor day 28 or 29, where D' = the anchor
         day (a service anchored on the 28th or 29th renews on that very date in February).

The serial number ``360Y + 30M + D'`` of every renewal date of an anchor day A therefore has
``D' = min(A, 30)``, whatever the month: a full month is always 30 days, a half-year 180, a year
360, for every anchor. And since a date's serial number depends on the date (and the anchor)
only, the days of consecutive pieces of a period add up exactly to the days of the period. That
is why, unlike US/NASD 30/360, day 31 counts as 30 also when the period starts before the 30th:
the 30th and the 31st are the same day, and the Jan 31 -> Feb 1 stretch is one day.

The anchor matters only for the last day of February. When it is not given it is read off the
two dates (see :func:`anchor_of`), which is right for every period produced by
:mod:`portal.billing.cycles`.
"""

from __future__ import annotations

from calendar import isleap
from datetime import date
from enum import StrEnum

from portal.billing.errors import InvalidDay, InvalidPeriod, UnknownDayCount


def check_day(value: int, field: str) -> int:
    """A day of the month used as an anchor or billing day: an ``int`` from 1 to 31."""
    if value.__class__ is not int or not 1 <= value <= 31:
        raise InvalidDay(field=field, value=value)
    return value


def is_end_of_february(day: date) -> bool:
    """Whether ``day`` is 28 February of a common year or 29 February of a leap year."""
    return day.month == 2 and (day.day == 29 or (day.day == 28 and not isleap(day.year)))


def anchor_of(start: date, end: date) -> int:
    """The anchor day of a period ``[start, end)`` whose ends are renewal dates.

    A period end in February that is the month's last day is the clipped anniversary of the other
    end's day (31 Jan -> 28 Feb has anchor 31; 28 Jan -> 28 Feb anchor 28). Otherwise both ends
    carry the anchor and the larger day is the unclipped one.
    """
    if is_end_of_february(start) and not is_end_of_february(end):
        return end.day
    if is_end_of_february(end) and not is_end_of_february(start):
        return start.day
    return max(start.day, end.day)


def _serial_30_360(day: date, anchor: int) -> int:
    """Position of ``day`` on a 30-days-a-month calendar (see the module docstring)."""
    number = day.day
    if number > 30:
        number = 30
    elif day.month == 2 and number >= 28 and (number == 29 or not isleap(day.year)):
        number = 30 if anchor < number else min(anchor, 30)
    return day.year * 360 + day.month * 30 + number


def count_days(day_count: DayCount, start: date, end: date, anchor: int) -> int:
    """Days from ``start`` to ``end`` (``start <= end`` already checked): the hot core.

    ``day_count`` may be the stored string value of a convention.
    """
    if day_count == "actual":
        return (end - start).days
    if day_count == "30/360":
        return _serial_30_360(end, anchor) - _serial_30_360(start, anchor)
    raise UnknownDayCount(value=day_count)


class DayCount(StrEnum):
    """Day-count convention, chosen per product; the difference shows in every preview."""

    ACTUAL = "actual"
    THIRTY_360 = "30/360"

    @classmethod
    def parse(cls, value: str) -> DayCount:
        """Read a setting value (``"actual"``, ``"30/360"``), raising :class:`UnknownDayCount`."""
        try:
            return cls(value.strip().lower() if isinstance(value, str) else value)
        except ValueError:
            raise UnknownDayCount(value=value) from None

    def days(self, start: date, end: date, anchor_day: int | None = None) -> int:
        """Days from ``start`` (counted) to ``end`` (not counted) under this convention.

        ``anchor_day`` is the service's renewal day; it only changes how the last day of February
        counts under 30/360 (see the module docstring) and defaults to :func:`anchor_of`.
        """
        if end < start:
            raise InvalidPeriod(start=start, end=end)
        if anchor_day is None:
            anchor_day = anchor_of(start, end)
        return count_days(self, start, end, check_day(anchor_day, "Anchor day"))
