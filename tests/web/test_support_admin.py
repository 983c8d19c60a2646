"""The support desk in the admin area: queues and search, replies mailed with threading headers
and CC on a real SMTP server, internal notes, assignment history, merge, canned replies, the
client's rating and important notes beside the ticket, counters, permissions."""

import csv
import io
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.accounts.models import AuditEntry, Note, Rating
from portal.core.extensions import db
from portal.messaging.models import OutboundMessage
from portal.messaging.outbox import deliver_outbox
from portal.support import tickets
from portal.support.models import (
    CannedReply,
    MessageKind,
    Ticket,
    TicketMessage,
    TicketPriority,
    TicketStatus,
)
from portal.testing.factories import make_client, make_staff
from tests.fixtures.mail.desk import eml, make_desk, pipe


@pytest.fixture
def desk(app: Flask, clock):
    return make_desk(clock)


def _open(desk, **overrides) -> Ticket:
    values = {
        "subject": "Не запускается 1С",
        "body": "Ошибка лицензирования",
        "client": desk.client,
        "department_id": desk.support.id,
    }
    values.update(overrides)
    return tickets.open_ticket(**values)


def _row_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-ticket="(\d+)"', page)]


def test_staff_reply_is_mailed_with_reference_threading_and_cc(
    app: Flask, desk, staff_web, staff_member, mailbox, clock
) -> None:
    pipe(app, eml("plain_utf8.eml"))
    ticket = db.session.scalar(select(Ticket))
    deliver_outbox(clock.now())
    mailbox.clear()  # the acknowledgement went out; now the reply
    url = f"/admin/support/{ticket.id}"
    staff_web.submit(
        f"{url}/update",
        {
            "department_id": desk.support.id,
            "priority": "medium",
            "status": "open",
            "cc": "buh@romashka.example, director@romashka.example",
            "tags": "1С, лицензия",
        },
        form_page=url,
    )
    response = staff_web.submit(
        f"{url}/reply",
        {"body": "Переустановите ключ защиты.", "status": "answered"},
        form_page=url,
    )
    assert response.status_code == 302
    assert deliver_outbox(clock.now()).sent == 1
    (mail,) = mailbox
    assert mail["Subject"] == f"[#{ticket.reference}] Не запускается 1С: Бухгалтерия"
    assert mail["To"] == "ivan@romashka.example"
    assert set(mail["Cc"].split(", ")) == {"buh@romashka.example", "director@romashka.example"}
    assert mail["In-Reply-To"] == "<20261102090102.GA1234@romashka.example>"
    references = mail["References"].split()
    assert references[0] == "<20261102090102.GA1234@romashka.example>" and len(references) == 2
    assert mail["Auto-Submitted"] is None  # a person wrote this one
    body = mail.get_content()
    assert "Переустановите ключ защиты." in body and staff_member.full_name in body
    assert "##- Please type your reply above this line" in body
    db.session.refresh(ticket)
    assert ticket.status is TicketStatus.ANSWERED and ticket.first_response_at == clock.now()
    assert ticket.tags == ["1с", "лицензия"]

    # the client's answer to that mail comes back into the same ticket
    reply = eml("reply_thread.eml").replace(b"<not-ours@portal.test>", mail["Message-ID"].encode())
    reply = reply.replace(b"<20261102090102.GA1234@romashka.example> ", b"")
    assert pipe(app, reply) == f"replied #{ticket.reference}"


def test_internal_notes_are_never_mailed(app, desk, staff_web, mailbox, clock) -> None:
    ticket = _open(desk)
    deliver_outbox(clock.now())
    mailbox.clear()
    url = f"/admin/support/{ticket.id}"
    staff_web.submit(
        f"{url}/note", {"body": "Клиент конфликтный, не обещать сроки."}, form_page=url
    )
    assert deliver_outbox(clock.now()).sent == 0 and mailbox == []
    note = db.session.scalar(select(TicketMessage).where(TicketMessage.kind == MessageKind.NOTE))
    assert note.body == "Клиент конфликтный, не обещать сроки."
    db.session.refresh(ticket)
    assert ticket.status is TicketStatus.OPEN  # a note is not an answer
    page = staff_web.get(url).get_data(as_text=True)
    assert "Клиент конфликтный" in page and 'data-kind="note"' in page


def test_queues_and_done_by_me(app, desk, clock, staff_web, staff_member) -> None:
    colleague = make_staff(clock, first_name="Коллега")
    mine = _open(desk, subject="Мой тикет")
    theirs = _open(desk, subject="Тикет коллеги")
    answered = _open(desk, subject="Отвеченный")
    tickets.update_ticket(mine, staff_member, {"assigned_staff_id": staff_member.id})
    tickets.update_ticket(theirs, staff_member, {"assigned_staff_id": staff_member.id})
    tickets.update_ticket(theirs, staff_member, {"assigned_staff_id": colleague.id})  # passed on
    tickets.staff_reply(answered, colleague, "Готово")
    staff_member.departments = [desk.support]
    db.session.commit()

    def queue(name: str) -> set[int]:
        return set(_row_ids(staff_web.get(f"/admin/support?queue={name}").get_data(as_text=True)))

    assert queue("awaiting") == {mine.id, theirs.id}
    assert queue("mine") == {mine.id}
    assert queue("done_by_me") == {mine.id, theirs.id}  # includes the one I passed on
    assert queue("department") == {mine.id, theirs.id, answered.id}
    assert queue("all") == {mine.id, theirs.id, answered.id}
    page = staff_web.get(f"/admin/support/{theirs.id}").get_data(as_text=True)
    history = page.split('id="assignment-history"')[1].split("</ul>")[0]
    assert staff_member.full_name in history and "Коллега" in history


@pytest.mark.parametrize("field", ["ref", "id", "inn", "email", "subject", "company", "contact"])
def test_search_by_number_client_inn_email_subject(app, desk, clock, staff_web, field) -> None:
    wanted = _open(desk, subject="Пакет дискового пространства")
    other_client = make_client(clock, company="ООО «Лютик»", email="info@lutik.example")
    _open(desk, client=other_client, subject="Другое")
    query = {
        "ref": f"#{wanted.reference.lower()}",
        "id": str(wanted.id),
        "inn": "770708",
        "email": "ivan@romashka",
        "subject": "дисков",
        "company": "ромашка",
        "contact": "buh@romashka",
    }[field]
    page = staff_web.get("/admin/support", query_string={"queue": "all", "q": query})
    assert _row_ids(page.get_data(as_text=True)) == [wanted.id]


def test_filters_and_csv(app, desk, staff_web) -> None:
    urgent = _open(desk, subject="Сервер упал", priority="urgent")
    _open(desk, subject="Вопрос по счёту", department_id=desk.sales.id)
    tickets.update_ticket(urgent, None, {"tags": "авария"})
    page = staff_web.get("/admin/support?queue=all&priority=urgent").get_data(as_text=True)
    assert _row_ids(page) == [urgent.id]
    page = staff_web.get(f"/admin/support?queue=all&department={desk.sales.id}")
    assert urgent.id not in _row_ids(page.get_data(as_text=True))
    tagged = staff_web.get("/admin/support?queue=all&tag=Авария").get_data(as_text=True)
    assert _row_ids(tagged) == [urgent.id]
    export = staff_web.get("/admin/support?queue=all&format=csv&priority=urgent")
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["ID", "Reference", "Subject"]
    assert rows[1][1] == urgent.reference and rows[1][2] == "Сервер упал" and len(rows) == 2


def test_change_department_priority_status_is_audited_and_mailed(
    app, desk, staff_web, clock
) -> None:
    ticket = _open(desk)
    url = f"/admin/support/{ticket.id}"
    before = db.session.scalar(select(func.count(OutboundMessage.id)))
    staff_web.submit(
        f"{url}/update",
        {
            "department_id": desk.billing.id,
            "priority": "high",
            "status": "on_hold",
            "notify_client": "y",
        },
        form_page=url,
    )
    db.session.refresh(ticket)
    assert (ticket.department_id, ticket.priority, ticket.status) == (
        desk.billing.id,
        TicketPriority.HIGH,
        TicketStatus.ON_HOLD,
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.update"))
    assert entry.before["status"] == "open" and entry.after["status"] == "on_hold"
    status_mail = db.session.scalar(select(OutboundMessage).order_by(OutboundMessage.id.desc()))
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == before + 1
    assert ticket.reference in status_mail.subject and "Отложен" in status_mail.text  # Russian

    staff_web.submit(
        f"{url}/update",
        {
            "department_id": desk.billing.id,
            "priority": "high",
            "status": "closed",
            "notify_client": "y",
        },
        form_page=url,
    )
    closure = db.session.scalar(select(OutboundMessage).order_by(OutboundMessage.id.desc()))
    assert "/support/feedback/" in closure.text
    db.session.refresh(ticket)
    assert ticket.closed_at == clock.now()


def test_merge_moves_the_conversation(app, desk, staff_web) -> None:
    first = _open(desk, subject="Первый")
    second = _open(desk, subject="Второй", body="Дубль вопроса")
    url = f"/admin/support/{first.id}"
    staff_web.submit(f"{url}/merge", {"references": f"#{second.reference}"}, form_page=url)
    db.session.refresh(second)
    assert second.merged_into_id == first.id and second.status is TicketStatus.CLOSED
    bodies = [m.body for m in db.session.get(Ticket, first.id).messages]
    assert "Дубль вопроса" in bodies and any(second.reference in b for b in bodies)
    assert tickets.by_reference(second.reference).id == first.id  # mail to the old one arrives here
    other = _open(desk, client=make_client(app.extensions["portal.core.clock"]), subject="Чужой")
    staff_web.submit(f"{url}/merge", {"references": str(other.id)}, form_page=url)
    db.session.refresh(other)
    assert other.merged_into_id is None  # another client's ticket is never merged in


def test_canned_reply_with_variables(app, desk, staff_web, staff_member) -> None:
    ticket = _open(desk)
    body = "Здравствуйте, {client_first_name}! По тикету {ticket_ref} ответил {staff_name}. {oops}"
    staff_web.submit(
        "/admin/support/canned", {"title": "Ключ защиты", "department_id": "None", "body": body}
    )
    reply = db.session.scalar(select(CannedReply))
    page = staff_web.get(f"/admin/support/{ticket.id}?canned={reply.id}").get_data(as_text=True)
    expected = (
        f"Здравствуйте, Иван! По тикету #{ticket.reference} ответил "
        f"{staff_member.full_name}. {{oops}}"
    )
    assert expected in page
    # the page's script inserts the same text without a reload: it is on the link, escaped
    plain = staff_web.get(f"/admin/support/{ticket.id}").get_data(as_text=True)
    link = plain.split('id="canned-replies"')[1].split("</a>")[0]
    assert f'data-canned-text="{expected}"' in link and f"canned={reply.id}" in link
    assert 'data-canned-target="#reply-form textarea[name=body]"' in link


def test_rating_and_important_notes_beside_the_ticket(app, desk, staff_web, staff_member) -> None:
    desk.client.rating = Rating.CONFLICTING
    db.session.add(
        Note(
            client_id=desk.client.id,
            author_id=staff_member.id,
            important=True,
            body="Старые реквизиты: р/с 40702810…",
            created_at=desk.client.created_at,
        )
    )
    db.session.add(
        Note(client_id=desk.client.id, body="обычная заметка", created_at=desk.client.created_at)
    )
    db.session.commit()
    ticket = _open(desk)
    page = staff_web.get(f"/admin/support/{ticket.id}").get_data(as_text=True)
    requester = page.split('id="requester"')[1].split("</div></div>")[0]
    assert "Conflicting" in requester and "Старые реквизиты" in requester
    assert "обычная заметка" not in requester


def test_counter_on_the_dashboard_and_in_the_header(app, desk, staff_web) -> None:
    _open(desk)
    _open(desk)
    answered = _open(desk)
    tickets.update_ticket(answered, None, {"status": "answered"}, notify_client=False)
    page = staff_web.get("/admin/").get_data(as_text=True)
    counter = page.split('data-counter="tickets_awaiting_reply"')[1].split("</div>")[0]
    assert ">2</a>" in counter and 'href="/admin/support"' in counter
    header = page.split('id="header-counters"')[1].split("</div>")[0]
    assert "Tickets awaiting reply: 2" in header


def test_client_card_tabs_list_tickets_and_emails(app, desk, staff_web) -> None:
    ticket = _open(desk)
    card = f"/admin/clients/{desk.client.id}"
    page = staff_web.get(f"{card}/tickets").get_data(as_text=True)
    assert f"#{ticket.reference}" in page and 'id="client-tickets"' in page
    emails = staff_web.get(f"{card}/emails").get_data(as_text=True)
    assert f"[#{ticket.reference}]" in emails  # the acknowledgement queued for this client
    other = make_client(app.extensions["portal.core.clock"])
    others = staff_web.get(f"/admin/clients/{other.id}/tickets").get_data(as_text=True)
    assert f"#{ticket.reference}" not in others


def test_staff_open_a_ticket_for_a_client(app, desk, staff_web, staff_member) -> None:
    response = staff_web.submit(
        "/admin/support/new",
        {
            "client_id": desk.client.id,
            "department_id": desk.support.id,
            "priority": "high",
            "subject": "дисковое пространство",
            "body": "Δ 5-10",
            "internal": "y",
        },
        form_page=f"/admin/support/new?client={desk.client.id}",
    )
    assert response.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert ticket.opened_by_staff_id == staff_member.id and ticket.status is TicketStatus.OPEN
    assert ticket.messages[0].kind is MessageKind.NOTE  # an internal request to the department
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == 0


def test_permissions(app, desk, clock) -> None:
    ticket = _open(desk)
    accountant, support = make_staff(clock, role="accountant"), make_staff(clock, role="support")
    web = app.test_client()
    web.sign_in_staff(accountant.email)
    for url in ("/admin/support", f"/admin/support/{ticket.id}", "/admin/support/canned"):
        assert web.get(url).status_code == 403
    agent = app.test_client()
    agent.sign_in_staff(support.email)
    assert agent.get(f"/admin/support/{ticket.id}").status_code == 200
    assert agent.get("/admin/settings/support/escalation").status_code == 403
    assert agent.get("/admin/support/reports").status_code == 403
    response = agent.submit(
        f"/admin/support/{ticket.id}/reply",
        {"body": "Ответ"},
        form_page=f"/admin/support/{ticket.id}",
    )
    assert response.status_code == 302
    assert (
        db.session.scalar(
            select(func.count(TicketMessage.id)).where(TicketMessage.kind == MessageKind.STAFF)
        )
        == 1
    )


def test_settings_pages(app, desk, staff_web) -> None:
    staff_web.submit(
        f"/admin/settings/support/departments/{desk.sales.id}",
        {"send_acknowledgement": "y", "signature": "Отдел продаж"},
    )
    page = staff_web.get("/admin/settings/support/departments").get_data(as_text=True)
    assert "rejected" in page.split("Продажи")[1].split("</tr>")[0]  # guests unchecked
    staff_web.submit(
        "/admin/settings/support/hours",
        {
            "name": "Офис",
            "timezone": "Europe/Moscow",
            "weekly": "1-5 09:00-18:00\n6 10:00-14:00",
            "holidays": "2026-11-04 2027-01-01",
        },
    )
    assert "Офис" in staff_web.get("/admin/settings/support/hours").get_data(as_text=True)
    bad = staff_web.submit(
        "/admin/settings/support/hours",
        {"name": "Плохой", "timezone": "Mars/Olympus", "weekly": "1-5 9-18"},
    )
    assert "Unknown time zone." in bad.get_data(as_text=True)
    staff_web.submit(
        "/admin/settings/support/sla",
        {
            "name": "Продажи",
            "department_id": desk.sales.id,
            "client_group_id": "None",
            "first_response_minutes": 30,
            "resolution_minutes": 240,
            "business_hours_id": "None",
            "priority": "",
        },
    )
    assert "Продажи" in staff_web.get("/admin/settings/support/sla").get_data(as_text=True)
    response = staff_web.submit(
        "/admin/settings/support/escalation",
        {
            "name": "Час без ответа",
            "active": "y",
            "department_id": "None",
            "statuses": ["open", "customer_reply"],
            "minutes": 60,
            "set_priority": "urgent",
            "set_department_id": "None",
            "set_staff_id": "None",
            "notify_emails": "duty@portal.test",
        },
    )
    assert response.status_code == 302
    page = staff_web.get("/admin/settings/support/escalation").get_data(as_text=True)
    assert "Час без ответа" in page and "Customer reply" in page
