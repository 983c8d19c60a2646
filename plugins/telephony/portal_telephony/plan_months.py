"""The months of a plan's billing periods: what included minutes and the numbers' monthly fees
are counted by (plugins/telephony/README.md, "Included minutes" and "How numbers are billed").

A plan renews on its anchor day (the core's ``Service.anchor_day``: a plan started on 15 March
renews on the 15th; one started on 31 January on 28 February, then 31 March). Its months are
the core's monthly periods on that anchor — for a monthly plan exactly its billing periods, for
a quarterly or annual plan its period cut at each anniversary of the anchor day. Dates are the
portal's business dates (``plugin_api.business_zone``), as the core's periods are. Everything
here is :mod:`portal.billing` arithmetic on dates; no query.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from portal.billing import Cycle, Period, add_months, period_containing


class _Dated(Protocol):
    anchor_day: int | None
    next_due_date: date | None
    period_start: date | None
    registration_date: date


def anchor_of(service: _Dated) -> int:
    """The day of the month ``service`` renews on: its anchor day, else its next due date's
    day (what the core's billing run renews by), else its start's."""
    if service.anchor_day:
        return service.anchor_day
    day = service.next_due_date or service.period_start or service.registration_date
    return day.day


def month_of(day: date, anchor: int) -> Period:
    """The plan month that holds ``day``: from the anchor day (clipped to the month's length)
    to the next one. ``month_of(10 March, 15)`` is 15 February – 15 March."""
    return period_containing(add_months(day, -1, anchor), Cycle.MONTHLY, day, anchor)


def months_of(period: Period, anchor: int) -> list[Period]:
    """``period`` (a billing period) cut into its plan months, in order: a quarter 1 March –
    1 June is March, April and May; a period shorter than a month (a first period prorated to
    the anchor day) is one piece."""
    pieces: list[Period] = []
    begin = period.start
    while begin < period.end:
        end = min(month_of(begin, anchor).end, period.end)
        pieces.append(Period(begin, end))
        begin = end
    return pieces


def moments(period: Period, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``period``'s first and end moments (local midnights in ``zone``), aware, for
    comparing with calls' start times."""
    return (
        datetime.combine(period.start, time(), tzinfo=zone),
        datetime.combine(period.end, time(), tzinfo=zone),
    )
