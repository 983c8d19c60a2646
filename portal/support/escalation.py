"""Escalation rules and auto-close: automatic actions on tickets, each exactly once.

Both take an explicit ``now`` (a scheduler passes its run time, a test moves a clock). Before
acting on a ticket they insert a ``TicketAutomationRun`` row keyed by (ticket, rule) or (ticket,
auto-close of this answer) with ``ON CONFLICT DO NOTHING`` in the same transaction as the action;
only the run that inserted the row acts. So a rule fires once per ticket however often the job
runs and however many schedulers run it, and a ticket answered again after reopening may be
auto-closed again (its answer is a new one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.accounts import audit
from portal.accounts.models.staff import Staff
from portal.core.extensions import db
from portal.support import notifications, sla, tickets
from portal.support.models.escalation import EscalationRule, TicketAutomationRun
from portal.support.models.ticket import (
    MessageKind,
    MessageSource,
    Ticket,
    TicketPriority,
    TicketStatus,
    TicketVisibility,
)

BATCH = 200


@dataclass
class AutomationReport:
    escalated: int = 0
    closed: int = 0
    details: list[str] = field(default_factory=list)


def _claim(ticket_id: int, key: str, rule_id: int | None, now: datetime) -> bool:
    """Record the action; False if it was recorded before (by this or another worker)."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(TicketAutomationRun)
        .values(ticket_id=ticket_id, key=key, rule_id=rule_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["ticket_id", "key"])
        .returning(TicketAutomationRun.id)
    )
    return db.session.execute(stmt).scalar() is not None


def _locked(ticket_id: int) -> Ticket | None:
    """The ticket, row-locked on PostgreSQL (skipped if another worker holds it)."""
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=Ticket)
    return db.session.scalar(stmt)


def _rule_key(rule: EscalationRule) -> str:
    return f"escalation:{rule.id}"


def _candidates(rule: EscalationRule, now: datetime) -> list[int]:
    stmt = select(Ticket.id).where(
        Ticket.merged_into_id.is_(None),
        Ticket.status != TicketStatus.CLOSED,
        Ticket.last_reply_at <= now - timedelta(minutes=rule.minutes),
        ~exists().where(
            TicketAutomationRun.ticket_id == Ticket.id,
            TicketAutomationRun.key == _rule_key(rule),
        ),
    )
    if rule.statuses:
        stmt = stmt.where(Ticket.status.in_([TicketStatus(s) for s in rule.statuses]))
    if rule.priorities:
        stmt = stmt.where(Ticket.priority.in_([TicketPriority(p) for p in rule.priorities]))
    if rule.department_id is not None:
        stmt = stmt.where(Ticket.department_id == rule.department_id)
    return list(db.session.scalars(stmt.order_by(Ticket.id).limit(BATCH)))


def _escalate(ticket: Ticket, rule: EscalationRule, now: datetime) -> str:
    changes: dict[str, object] = {}
    if rule.set_priority is not None:
        changes["priority"] = rule.set_priority
    if rule.set_department_id is not None:
        changes["department_id"] = rule.set_department_id
    if rule.set_staff_id is not None:
        changes["assigned_staff_id"] = rule.set_staff_id
    before = audit.snapshot(ticket, changes)
    if "priority" in changes:
        ticket.priority = rule.set_priority  # type: ignore[assignment]
    if "department_id" in changes and ticket.department_id != rule.set_department_id:
        ticket.department_id = rule.set_department_id
        sla.recompute(ticket)
    if "assigned_staff_id" in changes:
        ticket.assigned_staff_id = rule.set_staff_id
    db.session.flush()
    changed_before, changed_after = audit.diff(before, audit.snapshot(ticket, changes))
    if {"department_id", "assigned_staff_id"} & changed_after.keys():
        tickets.record_assignment(ticket, None, now)
    note = _("Escalation rule “%(rule)s” applied.", rule=rule.name)
    tickets.append_message(ticket, MessageKind.NOTE, note, now, [], source=MessageSource.SYSTEM)
    audit.record(
        "ticket.escalate",
        "ticket",
        ticket.id,
        before=changed_before,
        after={**changed_after, "rule": rule.name},
        client_id=ticket.client_id,
    )
    addresses = list(rule.notify_emails or [])
    if rule.notify_assignee and ticket.assigned_staff_id:
        addresses += notifications.staff_addresses(db.session.get(Staff, ticket.assigned_staff_id))
    notifications.escalated(ticket, rule.name, addresses, f"{_rule_key(rule)}:ticket:{ticket.id}")
    return f"#{ticket.reference}: {rule.name}"


def run_escalations(now: datetime) -> AutomationReport:
    """Apply every active rule to the tickets it matches, each (ticket, rule) once."""
    report = AutomationReport()
    rules = db.session.scalars(
        select(EscalationRule).where(EscalationRule.active.is_(True)).order_by(EscalationRule.id)
    ).all()
    for rule_id in [rule.id for rule in rules]:
        rule = db.session.get(EscalationRule, rule_id)
        if rule is None:
            continue
        for ticket_id in _candidates(rule, now):
            ticket = _locked(ticket_id)
            if ticket is None or not _claim(ticket_id, _rule_key(rule), rule.id, now):
                db.session.rollback()
                continue
            report.details.append(_escalate(ticket, rule, now))
            report.escalated += 1
            db.session.commit()
    return report


def auto_close(now: datetime, days: int | None = None) -> AutomationReport:
    """Close tickets answered by staff and silent for ``days`` (setting
    ``support_auto_close_days``; 0 turns it off), mailing the closure with a feedback link."""
    report = AutomationReport()
    days = current_app.config["PORTAL"]["support_auto_close_days"] if days is None else days
    if not days:
        return report
    ids = db.session.scalars(
        select(Ticket.id)
        .where(
            Ticket.status == TicketStatus.ANSWERED,
            Ticket.visibility == TicketVisibility.CLIENT,  # staff-only ones wait for staff
            Ticket.merged_into_id.is_(None),
            Ticket.last_reply_at <= now - timedelta(days=days),
        )
        .order_by(Ticket.id)
        .limit(BATCH)
    ).all()
    for ticket_id in ids:
        ticket = _locked(ticket_id)
        if ticket is None or ticket.status != TicketStatus.ANSWERED:
            db.session.rollback()
            continue
        key = f"auto_close:{ticket.last_reply_at.isoformat()}"
        if not _claim(ticket.id, key, None, now):
            db.session.rollback()
            continue
        ticket.status, ticket.closed_at, ticket.updated_at = TicketStatus.CLOSED, now, now
        audit.record(
            "ticket.auto_close",
            "ticket",
            ticket.id,
            before={"status": "answered"},
            after={"status": "closed"},
            client_id=ticket.client_id,
        )
        notifications.closed(ticket, dedupe_key=f"ticket:{ticket.id}:{key}", automatically=True)
        report.closed += 1
        report.details.append(f"#{ticket.reference}: closed")
        db.session.commit()
    return report


def run_all(now: datetime) -> AutomationReport:
    """What the scheduler runs: escalations, then auto-close."""
    first = run_escalations(now)
    second = auto_close(now)
    return AutomationReport(first.escalated, second.closed, [*first.details, *second.details])
