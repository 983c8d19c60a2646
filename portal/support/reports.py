"""Support reports: tickets per department and staff member, response and resolution times
against the SLA, and the clients' ratings.

"Within SLA" compares the moment of the first answer (of the closing) with the due date the
ticket had, which already counts business hours and holidays; the average times shown next to
it are plain elapsed time, which is what a client experiences.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import mean

from sqlalchemy import func, select

from portal.accounts.models.department import Department
from portal.accounts.models.staff import Staff
from portal.core.extensions import db
from portal.support.models.ticket import MessageKind, Ticket, TicketMessage, TicketStatus


@dataclass
class Row:
    key: int | None
    name: str
    opened: int = 0
    closed: int = 0
    replies: int = 0
    first_responses: list[float] = field(default_factory=list)
    first_met: int = 0
    resolutions: list[float] = field(default_factory=list)
    resolution_met: int = 0
    scores: list[int] = field(default_factory=list)

    @property
    def first_response_minutes(self) -> float | None:
        return mean(self.first_responses) if self.first_responses else None

    @property
    def first_response_met_percent(self) -> float | None:
        return 100 * self.first_met / len(self.first_responses) if self.first_responses else None

    @property
    def resolution_minutes(self) -> float | None:
        return mean(self.resolutions) if self.resolutions else None

    @property
    def resolution_met_percent(self) -> float | None:
        return 100 * self.resolution_met / len(self.resolutions) if self.resolutions else None

    @property
    def average_score(self) -> float | None:
        return mean(self.scores) if self.scores else None


@dataclass
class SupportReport:
    departments: list[Row]
    staff: list[Row]
    total: Row
    score_counts: dict[int, int]


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def _account(row: Row, ticket: Ticket) -> None:
    row.opened += 1
    if ticket.first_response_at is not None:
        row.first_responses.append(_minutes(ticket.created_at, ticket.first_response_at))
        due = ticket.first_response_due_at
        if due is not None and ticket.first_response_at <= due:
            row.first_met += 1
    if ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None:
        row.closed += 1
        row.resolutions.append(_minutes(ticket.created_at, ticket.closed_at))
        if ticket.resolution_due_at and ticket.closed_at <= ticket.resolution_due_at:
            row.resolution_met += 1
    if ticket.feedback_score is not None:
        row.scores.append(ticket.feedback_score)


def build(since: datetime, until: datetime) -> SupportReport:
    """Tickets opened in [since, until) and the staff replies written in that window."""
    departments = {d.id: d.name for d in db.session.scalars(select(Department))}
    staff_names = {s.id: s.full_name for s in db.session.scalars(select(Staff))}
    tickets = db.session.scalars(
        select(Ticket).where(
            Ticket.created_at >= since, Ticket.created_at < until, Ticket.merged_into_id.is_(None)
        )
    ).all()
    first_staff = dict(
        db.session.execute(
            select(TicketMessage.ticket_id, TicketMessage.staff_id).where(
                TicketMessage.id.in_(
                    select(func.min(TicketMessage.id))
                    .where(TicketMessage.kind == MessageKind.STAFF)
                    .group_by(TicketMessage.ticket_id)
                )
            )
        ).all()
    )
    by_department: dict[int | None, Row] = {}
    by_staff: dict[int | None, Row] = {}
    total = Row(None, "")
    for ticket in tickets:
        dept_id = ticket.department_id
        department = by_department.setdefault(dept_id, Row(dept_id, departments.get(dept_id, "")))
        _account(department, ticket)
        _account(total, ticket)
        responder = first_staff.get(ticket.id) or ticket.assigned_staff_id
        if responder is not None:
            _account(
                by_staff.setdefault(responder, Row(responder, staff_names.get(responder, ""))),
                ticket,
            )
    replies = db.session.execute(
        select(TicketMessage.staff_id, func.count(TicketMessage.id))
        .where(
            TicketMessage.kind == MessageKind.STAFF,
            TicketMessage.created_at >= since,
            TicketMessage.created_at < until,
            TicketMessage.staff_id.is_not(None),
        )
        .group_by(TicketMessage.staff_id)
    ).all()
    for staff_id, count in replies:
        by_staff.setdefault(staff_id, Row(staff_id, staff_names.get(staff_id, ""))).replies = count
        total.replies += count
    department_replies = db.session.execute(
        select(Ticket.department_id, func.count(TicketMessage.id))
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(
            TicketMessage.kind == MessageKind.STAFF,
            TicketMessage.created_at >= since,
            TicketMessage.created_at < until,
        )
        .group_by(Ticket.department_id)
    ).all()
    for dept_id, count in department_replies:
        row = by_department.setdefault(dept_id, Row(dept_id, departments.get(dept_id, "")))
        row.replies = count
    scores: dict[int, int] = defaultdict(int)
    for score in total.scores:
        scores[score] += 1
    return SupportReport(
        sorted(by_department.values(), key=lambda r: (r.name == "", r.name)),
        sorted(by_staff.values(), key=lambda r: r.name),
        total,
        {score: scores.get(score, 0) for score in range(5, 0, -1)},
    )
