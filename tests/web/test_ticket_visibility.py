"""Staff-only tickets (internal requests, plugins' provisioning tasks) never reach the client:
not listed, not readable, not answerable or closeable in the client area, not by mail; staff
cannot mail the client from them by mistake; only staff complete them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.messaging.models import OutboundMessage
from portal.plugin_api import open_ticket as plugin_open_ticket
from portal.support import escalation, tickets
from portal.support.models import Ticket, TicketStatus, TicketVisibility
from portal.support.tickets import TicketError
from tests.fixtures.mail.desk import FIXTURE_REFERENCE, eml, make_desk, pipe


@pytest.fixture
def desk(app: Flask, clock):
    return make_desk(clock)


@pytest.fixture
def ivan(app: Flask, desk):
    web = app.test_client()
    web.sign_in_client(desk.client.email)
    return web


def _mail_to_client(desk) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OutboundMessage)
        .where(OutboundMessage.client_id == desk.client.id)
    )


def _staff_only_tickets(desk, staff_member) -> list[Ticket]:
    internal = tickets.open_ticket(
        subject="Проверить оплату",
        body="Бухгалтерия: сверить п/п 701, клиент должен 5000",
        client=desk.client,
        department_id=desk.billing.id,
        staff=staff_member,
        internal=True,
    )
    task = plugin_open_ticket(
        client=desk.client,
        subject="Disk space: 0 GB -> 10 GB",
        body="Поставить квоту disk7 = 10 ГБ, закрыть тикет по готовности",
        department_id=desk.support.id,
    )
    return [internal, task]


def test_the_client_area_never_shows_a_staff_only_ticket(app, desk, ivan, staff_member) -> None:
    mine = tickets.open_ticket(
        subject="Мой вопрос",
        body="Как продлить?",
        client=desk.client,
        department_id=desk.support.id,
    )
    mail_before = _mail_to_client(desk)
    hidden = _staff_only_tickets(desk, staff_member)
    assert all(t.visibility is TicketVisibility.STAFF for t in hidden)
    assert _mail_to_client(desk) == mail_before  # no acknowledgement about them

    listing = ivan.get("/tickets").get_data(as_text=True)
    assert mine.reference in listing
    for ticket in hidden:
        assert ticket.reference not in listing and ticket.subject not in listing
        url = f"/tickets/{ticket.reference}"
        assert ivan.get(url).status_code == 404
        for action in ("reply", "close", "rate"):
            response = ivan.submit(
                f"{url}/{action}", {"body": "Вопрос решён", "score": "5"}, form_page="/tickets"
            )
            assert response.status_code == 404
        db.session.refresh(ticket)
        assert ticket.status is TicketStatus.OPEN and len(ticket.messages) == 1


def test_services_refuse_client_actions_and_mail_on_a_staff_only_ticket(
    app, desk, staff_member
) -> None:
    internal, task = _staff_only_tickets(desk, staff_member)
    for ticket in (internal, task):
        with pytest.raises(TicketError):
            tickets.client_reply(
                ticket, body="Закрываю", author_name="Иван", author_email=desk.client.email
            )
        with pytest.raises(TicketError):
            tickets.close_by_client(ticket)
        with pytest.raises(TicketError):
            tickets.rate(ticket, 5)
        with pytest.raises(TicketError, match="internal note"):
            tickets.staff_reply(ticket, staff_member, "Готово")
        db.session.refresh(ticket)
        assert ticket.status is TicketStatus.OPEN
    mine = tickets.open_ticket(
        subject="Мой", body="вопрос", client=desk.client, department_id=desk.support.id
    )
    with pytest.raises(TicketError, match="staff-only"):
        tickets.merge(mine, [task], staff_member)


def test_only_staff_close_a_staff_only_ticket_and_nothing_is_mailed(
    app, desk, staff_member, clock
) -> None:
    _internal, task = _staff_only_tickets(desk, staff_member)
    mail_before = _mail_to_client(desk)
    tickets.update_ticket(task, staff_member, {"status": TicketStatus.ANSWERED.value})
    clock.advance(timedelta(days=30))
    escalation.auto_close(clock.now(), days=7)  # never closes a staff-only ticket by itself
    db.session.refresh(task)
    assert task.status is TicketStatus.ANSWERED
    tickets.update_ticket(task, staff_member, {"status": TicketStatus.CLOSED.value})
    db.session.refresh(task)
    assert task.status is TicketStatus.CLOSED
    assert _mail_to_client(desk) == mail_before


def test_a_mail_quoting_a_staff_only_reference_opens_a_ticket_of_its_own(
    app, desk, staff_member
) -> None:
    _internal, task = _staff_only_tickets(desk, staff_member)
    task.reference = FIXTURE_REFERENCE
    db.session.commit()
    assert pipe(app, eml("reply_reference.eml")).startswith("opened")
    db.session.refresh(task)
    assert len(task.messages) == 1 and task.status is TicketStatus.OPEN


def test_the_admin_page_of_a_staff_only_ticket_offers_notes_not_replies(
    app, desk, staff_member, staff_web
) -> None:
    _internal, task = _staff_only_tickets(desk, staff_member)
    page = staff_web.get(f"/admin/support/{task.id}").get_data(as_text=True)
    assert 'id="staff-only"' in page and "the client does not see this ticket" in page
    assert 'id="reply-form"' not in page and 'id="note-form"' in page
    listing = staff_web.get("/admin/support?queue=all").get_data(as_text=True)
    assert task.reference in listing and "data-staff-only" in listing
