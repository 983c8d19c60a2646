"""The one source of "now". Services and jobs read time from the app's clock, so that tests and
an administrator's dry run can move it (Kill Bill style) instead of waiting for the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Real time, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def local_today(clock: Clock, timezone: str) -> date:
    """The business date in the provider's time zone (a bill is due on a Moscow date, not UTC)."""
    return clock.now().astimezone(ZoneInfo(timezone)).date()


def today() -> date:
    """The business date of the running app: its clock read in the provider's time zone.

    The one way for code inside the app to ask for "today" (a top-up at 01:30 Moscow time on
    1 January belongs to the new year, although it is still 31 December in UTC).
    """
    from flask import current_app

    return local_today(
        current_app.extensions["portal.core.clock"],
        current_app.config["PORTAL"]["default_timezone"],
    )
