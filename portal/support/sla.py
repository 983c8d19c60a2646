"""Service levels: which targets apply to a ticket and when its answers are due.

Targets are working minutes of a business-hours schedule (a weekly timetable in a time zone,
minus holidays): a ticket that arrives on Friday at 17:30 with a 2-hour target and a 9-18
schedule is due on Monday at 10:30, and one that arrives on 31 December is due after the New
Year holidays. A policy without a schedule counts round the clock. The most specific policy
wins: department and client group, then client group, then department, then the defaults from
the settings (``support_first_response_minutes``, ``support_resolution_minutes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from portal.accounts.models.client import Client
from portal.core.extensions import db
from portal.support.models.sla import BusinessHours, SlaPolicy
from portal.support.models.ticket import AWAITING_STAFF, Ticket, TicketPriority, TicketStatus

#: How far ahead a due date is searched for (a schedule with no working hours never ends).
HORIZON_DAYS = 400


class SlaError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    timezone: ZoneInfo
    #: ISO weekday (1 Monday … 7 Sunday) -> working intervals in local time.
    weekly: Mapping[int, Sequence[tuple[time, time]]]
    holidays: frozenset[date]

    @classmethod
    def from_model(cls, hours: BusinessHours) -> Schedule:
        weekly = {
            int(day): [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in intervals]
            for day, intervals in (hours.weekly or {}).items()
        }
        holidays = frozenset(date.fromisoformat(d) for d in hours.holidays or [])
        return cls(ZoneInfo(hours.timezone), weekly, holidays)

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """Working intervals of a local date, as aware UTC datetimes."""
        if day in self.holidays:
            return []
        result = []
        for start, end in self.weekly.get(day.isoweekday(), ()):
            local_start = datetime.combine(day, start, self.timezone)
            local_end = (
                datetime.combine(day, end, self.timezone)
                if end != time(0)
                else (datetime.combine(day + timedelta(days=1), time(0), self.timezone))
            )
            if local_end > local_start:
                result.append((local_start.astimezone(UTC), local_end.astimezone(UTC)))
        return result


@dataclass(frozen=True)
class Targets:
    first_response_minutes: int
    resolution_minutes: int
    schedule: Schedule | None
    priority: TicketPriority | None
    policy_name: str


def parse_weekly(text: str) -> dict[str, list[list[str]]]:
    """Parse "1-5 09:00-18:00" lines (ISO weekdays, ranges or single days, several intervals
    separated by commas) into the stored form. Raises SlaError with a readable message."""
    weekly: dict[str, list[list[str]]] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        days_part, _sep, hours_part = line.partition(" ")
        try:
            first, _dash, last = days_part.partition("-")
            days = range(int(first), int(last or first) + 1)
            intervals = []
            for chunk in hours_part.split(","):
                start, end = (part.strip() for part in chunk.split("-"))
                time.fromisoformat(start), time.fromisoformat(end)
                intervals.append([start, end])
        except ValueError:
            raise SlaError(_("Cannot read the line “%(line)s”.", line=line)) from None
        if not intervals or any(day < 1 or day > 7 for day in days):
            raise SlaError(_("Cannot read the line “%(line)s”.", line=line))
        for day in days:
            weekly.setdefault(str(day), []).extend(intervals)
    return weekly


def format_weekly(weekly: Mapping[str, Sequence[Sequence[str]]]) -> str:
    return "\n".join(
        f"{day} " + ", ".join(f"{a}-{b}" for a, b in weekly[day]) for day in sorted(weekly, key=int)
    )


def add_business_minutes(start: datetime, minutes: int, schedule: Schedule | None) -> datetime:
    """The moment ``minutes`` working minutes after ``start``."""
    if schedule is None:
        return start + timedelta(minutes=minutes)
    remaining = timedelta(minutes=minutes)
    day = start.astimezone(schedule.timezone).date() - timedelta(days=1)
    for _day in range(HORIZON_DAYS):
        for interval_start, interval_end in schedule.intervals(day):
            begin = max(interval_start, start)
            if begin >= interval_end:
                continue
            available = interval_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += timedelta(days=1)
    raise SlaError("the business hours have no working time within a year")


def business_minutes_between(start: datetime, end: datetime, schedule: Schedule | None) -> int:
    """Working minutes from ``start`` to ``end`` (0 if end is earlier)."""
    if end <= start:
        return 0
    if schedule is None:
        return int((end - start).total_seconds() // 60)
    total = timedelta()
    day = start.astimezone(schedule.timezone).date() - timedelta(days=1)
    last = end.astimezone(schedule.timezone).date()
    while day <= last:
        for interval_start, interval_end in schedule.intervals(day):
            begin, finish = max(interval_start, start), min(interval_end, end)
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)


def _policy(department_id: int | None, group_id: int | None) -> SlaPolicy | None:
    conditions = [SlaPolicy.department_id.is_(None) & SlaPolicy.client_group_id.is_(None)]
    if department_id is not None:
        conditions.append(
            (SlaPolicy.department_id == department_id) & SlaPolicy.client_group_id.is_(None)
        )
    if group_id is not None:
        conditions.append(
            SlaPolicy.department_id.is_(None) & (SlaPolicy.client_group_id == group_id)
        )
    if department_id is not None and group_id is not None:
        conditions.append(
            (SlaPolicy.department_id == department_id) & (SlaPolicy.client_group_id == group_id)
        )
    candidates = db.session.scalars(select(SlaPolicy).where(or_(*conditions))).all()

    def rank(policy: SlaPolicy) -> tuple[int, int, int]:
        return (policy.client_group_id is not None, policy.department_id is not None, -policy.id)

    return max(candidates, key=rank, default=None)


def targets_for(department_id: int | None, client: Client | None) -> Targets:
    policy = _policy(department_id, client.group_id if client is not None else None)
    if policy is None:
        cfg = current_app.config["PORTAL"]
        return Targets(
            cfg["support_first_response_minutes"],
            cfg["support_resolution_minutes"],
            None,
            None,
            "",
        )
    schedule = Schedule.from_model(policy.business_hours) if policy.business_hours else None
    return Targets(
        policy.first_response_minutes,
        policy.resolution_minutes,
        schedule,
        policy.priority,
        policy.name,
    )


def targets_for_ticket(ticket: Ticket) -> Targets:
    return targets_for(ticket.department_id, ticket.client)


def start_clock(ticket: Ticket, now: datetime) -> Targets:
    """Set the due dates of a ticket that has just opened."""
    targets = targets_for_ticket(ticket)
    ticket.first_response_due_at = add_business_minutes(
        now, targets.first_response_minutes, targets.schedule
    )
    ticket.response_due_at = ticket.first_response_due_at
    ticket.resolution_due_at = add_business_minutes(
        now, targets.resolution_minutes, targets.schedule
    )
    return targets


def awaiting_staff_since(ticket: Ticket, now: datetime) -> None:
    """The client wrote again: the next answer is due within the first-response target."""
    if ticket.response_due_at is None:
        targets = targets_for_ticket(ticket)
        ticket.response_due_at = add_business_minutes(
            now, targets.first_response_minutes, targets.schedule
        )


def recompute(ticket: Ticket) -> None:
    """After a move to another department the other department's targets apply, counted from
    the same start."""
    targets = targets_for_ticket(ticket)
    ticket.first_response_due_at = add_business_minutes(
        ticket.created_at, targets.first_response_minutes, targets.schedule
    )
    ticket.resolution_due_at = add_business_minutes(
        ticket.created_at, targets.resolution_minutes, targets.schedule
    )
    if ticket.response_due_at is not None and ticket.first_response_at is None:
        ticket.response_due_at = ticket.first_response_due_at


@dataclass(frozen=True)
class Clock:
    """One SLA clock as shown on a ticket."""

    label: str
    due_at: datetime
    #: Positive: time left; negative: overdue by that much.
    left: timedelta
    met: bool | None  # None while running

    @property
    def overdue(self) -> bool:
        return self.met is False or (self.met is None and self.left < timedelta())


def clocks(ticket: Ticket, now: datetime) -> list[Clock]:
    """What the ticket page shows: the next answer and the resolution, with time left."""
    result = []
    if ticket.status in AWAITING_STAFF and ticket.response_due_at is not None:
        result.append(
            Clock(_("Reply due"), ticket.response_due_at, ticket.response_due_at - now, None)
        )
    elif ticket.first_response_due_at is not None and ticket.first_response_at is not None:
        met = ticket.first_response_at <= ticket.first_response_due_at
        result.append(
            Clock(
                _("First response"),
                ticket.first_response_due_at,
                ticket.first_response_due_at - ticket.first_response_at,
                met,
            )
        )
    if ticket.resolution_due_at is not None:
        if ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None:
            met = ticket.closed_at <= ticket.resolution_due_at
            result.append(
                Clock(
                    _("Resolution"),
                    ticket.resolution_due_at,
                    ticket.resolution_due_at - ticket.closed_at,
                    met,
                )
            )
        else:
            result.append(
                Clock(
                    _("Resolution"), ticket.resolution_due_at, ticket.resolution_due_at - now, None
                )
            )
    return result


def format_duration(delta: timedelta) -> str:
    """ "1 d 2 h 05 min" style, for time left and overdue."""
    minutes = abs(int(delta.total_seconds())) // 60
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h", d=days, h=hours)
    if hours:
        return _("%(h)s h %(m)02d min", h=hours, m=mins)
    return _("%(m)s min", m=mins)
