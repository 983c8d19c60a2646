"""SLA: working minutes across evenings, weekends and holidays; the most specific policy wins;
the default is a first response within 2 hours; the ticket page shows the time left."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import ClientGroup
from portal.core.extensions import db
from portal.support import sla, tickets
from portal.support.models import BusinessHours, SlaPolicy, Ticket, TicketPriority
from tests.fixtures.mail.desk import make_desk

MSK = timedelta(hours=3)


def _msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - MSK  # type: ignore[misc]


@pytest.fixture
def office_hours(app) -> sla.Schedule:
    hours = BusinessHours(
        name="Офис",
        timezone="Europe/Moscow",
        weekly=sla.parse_weekly("1-5 09:00-18:00"),
        holidays=["2026-11-04"],  # День народного единства
    )
    db.session.add(hours)
    db.session.commit()
    return sla.Schedule.from_model(hours)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (_msk(2026, 11, 2, 12, 0), 120, _msk(2026, 11, 2, 14, 0)),  # Monday noon
        (_msk(2026, 11, 6, 17, 30), 120, _msk(2026, 11, 9, 10, 30)),  # Friday evening
        (_msk(2026, 11, 3, 17, 0), 120, _msk(2026, 11, 5, 10, 0)),  # over the holiday
        (_msk(2026, 11, 7, 23, 0), 60, _msk(2026, 11, 9, 10, 0)),  # written on Saturday night
        (_msk(2026, 11, 2, 7, 0), 1440, _msk(2026, 11, 5, 15, 0)),  # 24 working hours
    ],
)
def test_working_minutes(office_hours, start, minutes, due) -> None:
    assert sla.add_business_minutes(start, minutes, office_hours) == due
    assert sla.business_minutes_between(start, due, office_hours) == minutes


def test_round_the_clock_without_a_schedule() -> None:
    start = _msk(2026, 11, 7, 23, 0)
    assert sla.add_business_minutes(start, 120, None) == start + timedelta(hours=2)
    assert sla.business_minutes_between(start, start + timedelta(hours=2), None) == 120


@pytest.mark.parametrize("text", ["1-5", "8 09:00-18:00", "1-5 9-18", "пн 09:00-18:00"])
def test_unreadable_schedules_are_refused(text) -> None:
    with pytest.raises(sla.SlaError):
        sla.parse_weekly(text)


def test_the_most_specific_policy_applies(app, clock, office_hours) -> None:
    desk = make_desk(clock)
    vip = ClientGroup(name="VIP")
    db.session.add(vip)
    db.session.flush()
    hours_id = db.session.scalar(select(BusinessHours.id))

    def opened() -> Ticket:
        ticket = tickets.open_ticket(
            subject="Вопрос", body="текст", department_id=desk.support.id, client=desk.client
        )
        return ticket

    default = opened()
    assert default.first_response_due_at == clock.now() + timedelta(hours=2)
    assert default.resolution_due_at == clock.now() + timedelta(days=1)
    assert default.priority is TicketPriority.MEDIUM

    db.session.add(
        SlaPolicy(
            name="Техподдержка",
            department_id=desk.support.id,
            first_response_minutes=60,
            resolution_minutes=480,
        )
    )
    db.session.commit()
    assert opened().first_response_due_at == clock.now() + timedelta(hours=1)

    desk.client.group_id = vip.id
    db.session.add(
        SlaPolicy(
            name="Договор VIP",
            client_group_id=vip.id,
            first_response_minutes=15,
            resolution_minutes=240,
            priority=TicketPriority.HIGH,
        )
    )
    db.session.commit()
    contract = opened()
    assert contract.first_response_due_at == clock.now() + timedelta(minutes=15)
    assert contract.priority is TicketPriority.HIGH  # the contract's priority

    db.session.add(
        SlaPolicy(
            name="VIP в техподдержке",
            client_group_id=vip.id,
            department_id=desk.support.id,
            first_response_minutes=30,
            resolution_minutes=600,
            business_hours_id=hours_id,
        )
    )
    db.session.commit()
    # Monday 12:00 Moscow + 30 working minutes; resolution 600 minutes -> Tuesday 13:00
    both = opened()
    assert both.first_response_due_at == _msk(2026, 11, 2, 12, 30)
    assert both.resolution_due_at == _msk(2026, 11, 3, 13, 0)


def test_the_ticket_page_shows_time_left_then_overdue_then_met(
    app, clock, staff_web, staff_member
) -> None:
    desk = make_desk(clock)
    ticket = tickets.open_ticket(
        subject="Срочно", body="не работает", client=desk.client, department_id=desk.support.id
    )
    url = f"/admin/support/{ticket.id}"

    def clocks() -> str:
        page = staff_web.get(url).get_data(as_text=True)
        return page.split('id="sla-clocks"')[1].split("</div>")[0]

    assert "Reply due" in clocks() and "2 h 00 min left" in clocks()
    clock.advance(timedelta(minutes=95))
    assert "25 min left" in clocks()
    clock.advance(timedelta(minutes=40))
    assert "overdue by 15 min" in clocks()
    tickets.staff_reply(ticket, staff_member, "Перезагрузите сервер.")
    text = clocks()
    assert "First response" in text and "missed by 15 min" in text
    assert "Resolution" in text and "21 h 45 min left" in text
