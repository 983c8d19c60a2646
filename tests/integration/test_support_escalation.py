"""Escalation rules and auto-close move with the clock and act exactly once per ticket."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.messaging.models import OutboundMessage
from portal.support import escalation, tickets
from portal.support.models import (
    EscalationRule,
    MessageKind,
    Ticket,
    TicketAssignment,
    TicketAutomationRun,
    TicketPriority,
    TicketStatus,
)
from portal.testing.factories import make_staff
from tests.fixtures.mail.desk import make_desk


@pytest.fixture
def desk(app, clock):
    return make_desk(clock)


def _ticket(desk, **overrides) -> Ticket:
    values = {
        "subject": "Не работает 1С",
        "body": "Ошибка лицензии",
        "client": desk.client,
        "department_id": desk.support.id,
    }
    values.update(overrides)
    return tickets.open_ticket(**values)


def _mails(subject_part: str) -> list[OutboundMessage]:
    return list(
        db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.subject.contains(subject_part))
        )
    )


def test_a_rule_fires_once_when_its_time_comes(app, clock, desk) -> None:
    boss = make_staff(clock, first_name="Начальник", email="boss@portal.test")
    rule = EscalationRule(
        name="Два часа без ответа",
        statuses=["open", "customer_reply"],
        minutes=120,
        set_priority=TicketPriority.URGENT,
        set_department_id=desk.sales.id,
        set_staff_id=boss.id,
        notify_assignee=True,
        notify_emails=["duty@portal.test"],
        created_at=clock.now(),
    )
    quiet = EscalationRule(
        name="Только отвеченные",
        statuses=["answered"],
        minutes=1,
        set_priority=TicketPriority.LOW,
        created_at=clock.now(),
    )
    db.session.add_all([rule, quiet])
    db.session.commit()
    ticket = _ticket(desk)
    other_department = _ticket(desk, department_id=desk.billing.id)

    clock.advance(timedelta(minutes=119))
    assert escalation.run_escalations(clock.now()).escalated == 0
    clock.advance(timedelta(minutes=1))
    report = escalation.run_escalations(clock.now())
    assert report.escalated == 2  # the rule has no department condition: both tickets
    db.session.refresh(ticket)
    assert ticket.priority is TicketPriority.URGENT and ticket.department_id == desk.sales.id
    assert ticket.assigned_staff_id == boss.id
    note = ticket.messages[-1]
    assert note.kind is MessageKind.NOTE and "Два часа без ответа" in note.body
    history = db.session.scalars(
        select(TicketAssignment).where(TicketAssignment.ticket_id == ticket.id)
    ).all()
    assert [h.department_id for h in history] == [desk.support.id, desk.sales.id]
    notices = _mails(f"#{ticket.reference}")
    notices = [m for m in notices if m.subject.startswith("Escalated")]
    assert len(notices) == 1 and sorted(notices[0].to_addrs) == [
        "boss@portal.test",
        "duty@portal.test",
    ]

    for minutes in (1, 60, 600):  # the scheduler runs again and again
        clock.advance(timedelta(minutes=minutes))
        assert escalation.run_escalations(clock.now()).escalated == 0
    # the client writes again and waits again: the rule still does not fire a second time
    tickets.client_reply(
        ticket, body="Ну что там?", author_name="Иван", author_email="ivan@romashka.example"
    )
    clock.advance(timedelta(hours=3))
    assert escalation.run_escalations(clock.now()).escalated == 0
    assert db.session.scalar(select(func.count(TicketAutomationRun.id))) == 2
    assert len([m for m in _mails("Escalated") if ticket.reference in m.subject]) == 1
    assert other_department.id  # (escalated above, with its own run row)


def test_a_run_recorded_by_another_worker_is_not_repeated(app, clock, desk) -> None:
    rule = EscalationRule(
        name="r",
        statuses=["open"],
        minutes=10,
        set_priority=TicketPriority.HIGH,
        created_at=clock.now(),
    )
    db.session.add(rule)
    db.session.commit()
    ticket = _ticket(desk)
    db.session.add(
        TicketAutomationRun(
            ticket_id=ticket.id,
            key=f"escalation:{rule.id}",
            rule_id=rule.id,
            created_at=clock.now(),
        )
    )
    db.session.commit()
    clock.advance(timedelta(hours=1))
    assert escalation.run_escalations(clock.now()).escalated == 0
    db.session.refresh(ticket)
    assert ticket.priority is TicketPriority.MEDIUM


def test_auto_close_answered_and_silent_tickets_once(app, clock, desk, staff_member) -> None:
    ticket = _ticket(desk)
    waiting = _ticket(desk, subject="Ждёт ответа")  # never answered: never auto-closed
    tickets.staff_reply(ticket, staff_member, "Переустановите ключ.")
    answered_at = clock.now()

    clock.set(answered_at + timedelta(days=3) - timedelta(minutes=1))
    assert escalation.auto_close(clock.now(), days=3).closed == 0
    clock.set(answered_at + timedelta(days=3))
    assert escalation.auto_close(clock.now(), days=3).closed == 1
    db.session.refresh(ticket)
    assert ticket.status is TicketStatus.CLOSED and ticket.closed_at == clock.now()
    closures = [m for m in _mails(ticket.reference) if "/support/feedback/" in m.text]
    assert len(closures) == 1
    assert "we have not heard from you" in closures[0].text or "не получили" in closures[0].text

    clock.advance(timedelta(days=10))
    assert escalation.auto_close(clock.now(), days=3).closed == 0
    db.session.refresh(waiting)
    assert waiting.status is TicketStatus.OPEN

    # the client reopens it, staff answer again: a new answer may be auto-closed again
    tickets.client_reply(
        ticket, body="Опять не работает", author_name="Иван", author_email="ivan@romashka.example"
    )
    tickets.staff_reply(ticket, staff_member, "Теперь точно.")
    clock.advance(timedelta(days=3))
    assert escalation.auto_close(clock.now(), days=3).closed == 1
    assert len([m for m in _mails(ticket.reference) if "/support/feedback/" in m.text]) == 2


def test_the_command_uses_the_setting(app, clock, desk, staff_member) -> None:
    ticket = _ticket(desk)
    tickets.staff_reply(ticket, staff_member, "Готово.")
    runner = app.test_cli_runner()
    clock.advance(timedelta(days=6))
    assert "closed 0" in runner.invoke(args=["support", "escalate"]).output
    clock.advance(timedelta(days=1))  # support_auto_close_days defaults to 7
    result = runner.invoke(args=["support", "escalate"])
    assert result.exit_code == 0 and "closed 1" in result.output
    assert "closed 0" in runner.invoke(args=["support", "escalate"]).output
