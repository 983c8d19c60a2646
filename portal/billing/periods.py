"""Billing periods: half-open ``[start, end)`` where ``end`` is the next due date.

Half-open periods tile the calendar without overlaps or gaps (one period's end is the next one's
start), so a day always belongs to exactly one period. Documents print the inclusive last day,
``end - 1 day``, the way Russian offices write it: ``(01.02.2019 - 31.07.2019)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from portal.billing.daycount import DayCount, anchor_of
from portal.billing.errors import InvalidPeriod

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Period:
    """A billed stretch of time, ``start`` included, ``end`` (the next due date) excluded."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if not self.end > self.start:
            raise InvalidPeriod(start=self.start, end=self.end)

    @property
    def last_day(self) -> date:
        """The last day the period covers (its end is the first day it does not)."""
        return self.end - _ONE_DAY

    @property
    def anchor_day(self) -> int:
        """The renewal day of the schedule this period belongs to (see ``anchor_of``)."""
        return anchor_of(self.start, self.end)

    def days(self, day_count: DayCount) -> int:
        """Length of the period under ``day_count``."""
        return day_count.days(self.start, self.end, self.anchor_day)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    def label(self, days: int | None = None, of: int | None = None) -> str:
        """``(01.02.2019 - 31.07.2019)``: first and last day, as printed on invoices.

        A prorated line says which share of its full period it bills: ``days`` of ``of``,
        ``(08.01.2026 - 30.06.2026, 174 из 181 дн.)`` (documents are in Russian).
        """
        dates = f"{self.start:%d.%m.%Y} - {self.last_day:%d.%m.%Y}"
        if days is None or of is None:
            return f"({dates})"
        return f"({dates}, {days} из {of} дн.)"
