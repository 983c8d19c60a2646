"""Support reports: tickets per department and staff member, response and resolution times
against the SLA, and the clients' ratings; and the open tickets past their SLA now.

"Within SLA" compares the moment of the first answer (of the closing) with the due date the
ticket had, which already counts business hours and holidays; the average times shown next to
it are plain elapsed time, which is what a client experiences. A ticket counts for the staff
member who answered it first (else the one it is assigned to).

Everything is counted and averaged in the database (GROUP BY department, GROUP BY staff
member), never by loading the tickets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased
from wtforms import SelectField

from portal.accounts.models.department import Department
from portal.accounts.models.staff import Staff
from portal.core import clock as portal_clock
from portal.core.extensions import db
from portal.core.sql_dates import seconds_between
from portal.platform.report_filters import ReportFilters
from portal.platform.reports import Chart, Column, ColumnKind, Report, ReportResult
from portal.support.models.ticket import (
    AWAITING_STAFF,
    MessageKind,
    Ticket,
    TicketMessage,
    TicketStatus,
)


@dataclass
class Row:
    """One department, staff member or the total; times in minutes."""

    key: int | None
    name: str
    opened: int = 0
    closed: int = 0
    replies: int = 0
    first_responses: int = 0
    first_response_minutes: float | None = None
    first_met: int = 0
    resolution_minutes: float | None = None
    resolution_met: int = 0
    ratings: int = 0
    average_score: float | None = None

    @property
    def first_response_met_percent(self) -> float | None:
        return 100 * self.first_met / self.first_responses if self.first_responses else None

    @property
    def resolution_met_percent(self) -> float | None:
        return 100 * self.resolution_met / self.closed if self.closed else None


@dataclass
class SupportReport:
    departments: list[Row]
    staff: list[Row]
    total: Row
    score_counts: dict[int, int]


def _is_closed() -> Any:
    return and_(Ticket.status == TicketStatus.CLOSED, Ticket.closed_at.is_not(None))


def _figures() -> list[Any]:
    """The aggregate columns of a row, in the order of ``Row``'s fields after ``replies``."""
    closed = _is_closed()
    minutes_to_first = seconds_between(Ticket.created_at, Ticket.first_response_at) / 60
    minutes_to_close = seconds_between(Ticket.created_at, Ticket.closed_at) / 60
    return [
        func.count(Ticket.id),
        func.sum(case((closed, 1), else_=0)),
        func.count(Ticket.first_response_at),
        func.avg(minutes_to_first),
        func.sum(case((Ticket.first_response_at <= Ticket.first_response_due_at, 1), else_=0)),
        func.avg(case((closed, minutes_to_close))),
        func.sum(case((and_(closed, Ticket.closed_at <= Ticket.resolution_due_at), 1), else_=0)),
        func.count(Ticket.feedback_score),
        func.avg(Ticket.feedback_score),
    ]


def _row(key: int | None, name: str, figures: Any) -> Row:
    opened, closed, answered, first, first_met, resolution, met, ratings, score = figures
    return Row(
        key,
        name,
        opened=int(opened or 0),
        closed=int(closed or 0),
        first_responses=int(answered or 0),
        first_response_minutes=None if first is None else float(first),
        first_met=int(first_met or 0),
        resolution_minutes=None if resolution is None else float(resolution),
        resolution_met=int(met or 0),
        ratings=int(ratings or 0),
        average_score=None if score is None else float(score),
    )


def _opened_in(since: datetime, until: datetime) -> Any:
    return and_(
        Ticket.created_at >= since, Ticket.created_at < until, Ticket.merged_into_id.is_(None)
    )


def _replied_in(since: datetime, until: datetime) -> Any:
    return and_(
        TicketMessage.kind == MessageKind.STAFF,
        TicketMessage.created_at >= since,
        TicketMessage.created_at < until,
    )


def _by_responder(since: datetime, until: datetime) -> Any:
    """The figures per staff member who answered the ticket first (the staff member of its
    first staff message), else the one it is assigned to; joined, not a subquery per ticket."""
    first = (
        select(TicketMessage.ticket_id, func.min(TicketMessage.id).label("message_id"))
        .where(TicketMessage.kind == MessageKind.STAFF)
        .group_by(TicketMessage.ticket_id)
        .subquery("first_answer")
    )
    answer = aliased(TicketMessage, name="answer")
    responder = func.coalesce(answer.staff_id, Ticket.assigned_staff_id).label("responder")
    return (
        select(responder, *_figures())
        .select_from(Ticket)
        .outerjoin(first, first.c.ticket_id == Ticket.id)
        .outerjoin(answer, answer.id == first.c.message_id)
        .where(_opened_in(since, until), responder.is_not(None))
        .group_by(responder)
    )


def build(since: datetime, until: datetime) -> SupportReport:
    """Tickets opened in [since, until) and the staff replies written in that window."""
    departments = dict(db.session.execute(select(Department.id, Department.name)).all())
    staff_names = {s.id: s.full_name for s in db.session.scalars(select(Staff))}  # a few dozen
    window = _opened_in(since, until)

    by_department: dict[int | None, Row] = {}
    for dept_id, *figures in db.session.execute(
        select(Ticket.department_id, *_figures()).where(window).group_by(Ticket.department_id)
    ):
        by_department[dept_id] = _row(dept_id, departments.get(dept_id, ""), figures)
    by_staff: dict[int | None, Row] = {}
    for staff_id, *figures in db.session.execute(_by_responder(since, until)):
        by_staff[staff_id] = _row(staff_id, staff_names.get(staff_id, ""), figures)
    total = _row(None, "", db.session.execute(select(*_figures()).where(window)).one())

    replies = db.session.execute(
        select(TicketMessage.staff_id, func.count(TicketMessage.id))
        .where(_replied_in(since, until), TicketMessage.staff_id.is_not(None))
        .group_by(TicketMessage.staff_id)
    ).all()
    for staff_id, count in replies:
        by_staff.setdefault(staff_id, Row(staff_id, staff_names.get(staff_id, ""))).replies = count
        total.replies += count
    department_replies = db.session.execute(
        select(Ticket.department_id, func.count(TicketMessage.id))
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(_replied_in(since, until))
        .group_by(Ticket.department_id)
    ).all()
    for dept_id, count in department_replies:
        row = by_department.setdefault(dept_id, Row(dept_id, departments.get(dept_id, "")))
        row.replies = count
    scores = dict(
        db.session.execute(
            select(Ticket.feedback_score, func.count(Ticket.id))
            .where(window, Ticket.feedback_score.is_not(None))
            .group_by(Ticket.feedback_score)
        ).all()
    )
    return SupportReport(
        sorted(by_department.values(), key=lambda r: (r.name == "", r.name)),
        sorted(by_staff.values(), key=lambda r: r.name),
        total,
        {score: int(scores.get(score, 0)) for score in range(5, 0, -1)},
    )


def past_sla(now: datetime) -> Any:
    """The WHERE clause of the open tickets past their SLA at ``now``, as the ticket page's
    clocks show them overdue: a reply due while the client waits, or the resolution due."""
    return and_(
        Ticket.merged_into_id.is_(None),
        Ticket.status != TicketStatus.CLOSED,
        or_(
            and_(Ticket.status.in_(AWAITING_STAFF), Ticket.response_due_at < now),
            Ticket.resolution_due_at < now,
        ),
    )


def tickets_past_sla(now: datetime) -> int:
    """Open tickets past their SLA at ``now`` (the owners' dashboard shows the number)."""
    count = db.session.scalar(select(func.count(Ticket.id)).where(past_sla(now)))
    return int(count or 0)


# --- the report ----------------------------------------------------------------------------------

GROUPINGS = (("department", _l("Department")), ("staff", _l("Staff member")))


class SupportFilters(ReportFilters):
    currency = None
    manager = None
    product_group = None
    product = None
    group_by = SelectField(_l("Group by"), choices=GROUPINGS, default="department")


def day_start(day: date) -> datetime:
    """The start of ``day`` in the portal's time zone (a support day is the desk's day), in
    UTC as tickets keep their times."""
    zone = ZoneInfo(current_app.config["PORTAL"]["default_timezone"])
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _minutes(value: float | None) -> int | None:
    return None if value is None else round(value)


def _one_decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 1)))


def _cells(row: Row) -> list[Any]:
    return [
        row.opened,
        row.closed,
        row.replies,
        _minutes(row.first_response_minutes),
        _one_decimal(row.first_response_met_percent),
        _minutes(row.resolution_minutes),
        _one_decimal(row.resolution_met_percent),
        _one_decimal(row.average_score),
        row.ratings,
    ]


class SupportSlaReport(Report):
    name = "support"
    label = _l("Support")
    description = _l(
        "Tickets opened in the period: average first response and resolution times (plain "
        "elapsed minutes) and the share in time, against the SLA due dates (business hours), "
        "by department or by the staff member who answered first; the clients' ratings."
    )
    filters = SupportFilters
    order = 90

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        today = portal_clock.today()
        since = filters.get("since") or date(today.year, 1, 1)
        until = filters.get("until") or today
        data = build(day_start(since), day_start(until + timedelta(days=1)))
        by_staff = filters.get("group_by") == "staff"
        lines = data.staff if by_staff else data.departments
        columns = [
            Column(_("Staff member") if by_staff else _("Department")),
            Column(_("Tickets"), ColumnKind.NUMBER),
            Column(_("Closed"), ColumnKind.NUMBER),
            Column(_("Replies"), ColumnKind.NUMBER),
            Column(_("First response, min"), ColumnKind.NUMBER),
            Column(_("Answered in time"), ColumnKind.PERCENT),
            Column(_("Resolution, min"), ColumnKind.NUMBER),
            Column(_("Resolved in time"), ColumnKind.PERCENT),
            Column(_("Average rating"), ColumnKind.NUMBER),
            Column(_("Ratings"), ColumnKind.NUMBER),
        ]
        rows = [[line.name or _("No department"), *_cells(line)] for line in lines]
        chart = Chart(
            "bar",
            ["★" * score for score in data.score_counts],
            [(_("Ratings"), list(data.score_counts.values()))],
            title=_("Ratings"),
        )
        return ReportResult(
            columns,
            rows,
            chart=chart if data.total.ratings else None,
            totals=[None, *_cells(data.total)],
        )
