"""Support in the client area: open a ticket with attachments, follow the conversation without
internal notes, reply (reopening), close and rate; another client's ticket and attachments are
a 404; the feedback link from the closure e-mail works without signing in."""

import io
import re

import pytest
from flask import Flask
from sqlalchemy import select

from portal.accounts.models import AuditEntry
from portal.core.extensions import db
from portal.messaging.models import OutboundMessage
from portal.support import attachments, tickets
from portal.support.models import (
    MessageKind,
    Ticket,
    TicketAttachment,
    TicketPriority,
    TicketStatus,
)
from portal.testing.factories import make_client
from tests.fixtures.mail.desk import make_desk


@pytest.fixture
def desk(app: Flask, clock):
    return make_desk(clock)


@pytest.fixture
def ivan(app: Flask, desk):
    web = app.test_client()
    web.sign_in_client(desk.client.email)
    return web


def _new(web, desk, **extra):
    data = {
        "department_id": desk.support.id,
        "priority": "high",
        "subject": "Не работает ЭДО",
        "body": "Документы не уходят контрагенту.",
        "service_id": "None",
    }
    data.update(extra)
    return web.submit("/tickets/new", data, content_type="multipart/form-data")


def test_client_opens_a_ticket_with_attachments(app, desk, ivan) -> None:
    form = ivan.get("/tickets/new").get_data(as_text=True)
    assert "Техподдержка" in form and "Бухгалтерия" not in form  # hidden department not offered
    assert 'value="urgent"' not in form
    response = _new(
        ivan,
        desk,
        attachments=[
            (io.BytesIO(b"%PDF-1.4 scan"), "акт сверки.pdf"),
            (io.BytesIO(b"2026-11-02 error"), "1cv8.log"),
        ],
    )
    assert response.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert response.location.endswith(f"/tickets/{ticket.reference}")
    assert ticket.client_id == desk.client.id and ticket.priority is TicketPriority.HIGH
    assert sorted(a.filename for a in ticket.messages[0].attachments) == [
        "1cv8.log",
        "акт сверки.pdf",
    ]
    ack = db.session.scalar(select(OutboundMessage))
    assert ack.subject == f"[#{ticket.reference}] Не работает ЭДО"
    page = ivan.get(response.location).get_data(as_text=True)
    assert "Документы не уходят контрагенту." in page and "акт сверки.pdf" in page


@pytest.mark.parametrize(  # Иван reads the portal in Russian
    ("name", "data", "message"),
    [
        ("setup.exe", b"MZ...", "файлы такого типа не принимаются"),
        ("report.html", b"<script>", "файлы такого типа не принимаются"),
        ("photo.jpg.bat", b"echo", "файлы такого типа не принимаются"),
        ("big.pdf", b"x" * (10 * 1024 * 1024 + 1), "файл больше 10 МБ"),
    ],
)
def test_attachment_limits(app, desk, ivan, name, data, message) -> None:
    def stored() -> int:
        return sum(1 for path in attachments.root().rglob("*") if path.is_file())

    before = stored()
    response = _new(
        ivan, desk, attachments=[(io.BytesIO(b"fine"), "ok.txt"), (io.BytesIO(data), name)]
    )
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(Ticket)) is None
    assert stored() == before  # not even the acceptable file was written


def test_names_are_sanitised(app) -> None:
    assert attachments.sanitise_filename("../../etc/passwd") == "passwd"
    assert (
        attachments.sanitise_filename("C:\\Users\\x\\отчёт:октябрь?.xlsx") == "отчёт_октябрь_.xlsx"
    )
    assert attachments.sanitise_filename("..hidden.txt") == "hidden.txt"
    assert attachments.sanitise_filename("\x00\x1f.txt") == "__.txt"
    assert attachments.sanitise_filename("") == "attachment"


def test_conversation_without_internal_notes_reply_reopens_close_and_rate(
    app, desk, ivan, staff_member
) -> None:
    ticket = tickets.open_ticket(
        subject="Вопрос", body="Как продлить?", client=desk.client, department_id=desk.support.id
    )
    tickets.add_note(
        ticket,
        staff_member,
        "СЕКРЕТ: клиент должен нам 5000",
        uploads=[attachments.Upload("долг.xlsx", b"PK secret")],
    )
    tickets.staff_reply(ticket, staff_member, "Оплатите счёт № 71475.", status="closed")
    note_file = db.session.scalar(
        select(TicketAttachment).where(TicketAttachment.filename == "долг.xlsx")
    )
    url = f"/tickets/{ticket.reference}"
    page = ivan.get(url).get_data(as_text=True)
    assert "Оплатите счёт № 71475." in page
    assert "СЕКРЕТ" not in page and "долг.xlsx" not in page
    assert ivan.get(f"{url}/attachments/{note_file.id}").status_code == 404

    ivan.submit(f"{url}/reply", {"body": "Оплатил, но услуга не работает."}, form_page=url)
    db.session.refresh(ticket)
    assert ticket.status is TicketStatus.CUSTOMER_REPLY and ticket.closed_at is None
    assert ticket.messages[-1].author_email == "ivan@romashka.example"

    ivan.submit(f"{url}/close", {}, form_page=url)
    db.session.refresh(ticket)
    assert ticket.status is TicketStatus.CLOSED
    ivan.submit(
        f"{url}/rate", {"score": "4", "comment": "Быстро, но со второго раза"}, form_page=url
    )
    db.session.refresh(ticket)
    assert ticket.feedback_score == 4 and ticket.feedback_comment == "Быстро, но со второго раза"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.feedback"))


def test_another_clients_ticket_and_attachment_are_404(app, desk, clock, ivan) -> None:
    stranger = make_client(clock, company="ООО «Лютик»")
    theirs = tickets.open_ticket(
        subject="Чужой",
        body="секрет Лютика",
        client=stranger,
        department_id=desk.support.id,
        uploads=[attachments.Upload("договор.pdf", b"%PDF")],
    )
    mine = tickets.open_ticket(
        subject="Мой", body="мой вопрос", client=desk.client, department_id=desk.support.id
    )
    attachment = db.session.scalar(select(TicketAttachment))
    base = f"/tickets/{theirs.reference}"
    for url in (
        base,
        f"{base}/attachments/{attachment.id}",
        f"/tickets/{mine.reference}/attachments/{attachment.id}",
    ):
        assert ivan.get(url).status_code == 404, url
    for action in ("reply", "close", "rate"):
        response = ivan.submit(
            f"{base}/{action}", {"body": "x", "score": "1"}, form_page="/tickets"
        )
        assert response.status_code == 404
    db.session.refresh(theirs)
    assert theirs.status is TicketStatus.OPEN and len(theirs.messages) == 1
    listing = ivan.get("/tickets").get_data(as_text=True)
    assert mine.reference in listing and theirs.reference not in listing
    anonymous = app.test_client()
    assert anonymous.get(f"/tickets/{mine.reference}").status_code == 302  # sign in first


def test_staff_and_owner_download_attachments_as_files(app, desk, ivan, staff_web) -> None:
    ticket = tickets.open_ticket(
        subject="Скан",
        body="во вложении",
        client=desk.client,
        department_id=desk.support.id,
        uploads=[attachments.Upload("скан.png", b"\x89PNG data")],
    )
    attachment = ticket.messages[0].attachments[0]
    for response in (
        ivan.get(f"/tickets/{ticket.reference}/attachments/{attachment.id}"),
        staff_web.get(f"/admin/support/attachments/{attachment.id}"),
    ):
        assert response.status_code == 200 and response.data == b"\x89PNG data"
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype == "image/png"
    assert app.test_client().get(f"/admin/support/attachments/{attachment.id}").status_code == 302


def test_feedback_link_from_the_closure_mail(app, desk, staff_member) -> None:
    guest = tickets.open_ticket(
        subject="Сколько стоит?",
        body="?",
        guest_email="s@new.example",
        guest_name="Сергей",
        department_id=desk.sales.id,
    )
    tickets.staff_reply(guest, staff_member, "1000 рублей.", status="closed")
    closure = db.session.scalar(
        select(OutboundMessage).where(OutboundMessage.text.contains("/support/feedback/"))
    )
    assert closure.to_addrs == ["s@new.example"]
    link = re.search(r"http://localhost(/support/feedback/\S+)", closure.text).group(1)
    web = app.test_client()
    page = web.get(link)
    assert page.status_code == 200 and "Сколько стоит?" in page.get_data(as_text=True)
    done = web.submit(link, {"score": "5", "comment": "Спасибо!"})
    assert 'id="feedback-thanks"' in done.get_data(as_text=True)
    db.session.refresh(guest)
    assert guest.feedback_score == 5
    assert web.get(link[:-3] + "xyz").status_code == 404  # a forged token
    assert MessageKind.STAFF in {m.kind for m in guest.messages}


def test_a_ticket_can_be_about_one_of_the_clients_own_services(
    app, desk, ivan, clock, staff_web
) -> None:
    from portal.orders.models import Service
    from portal.platform import demo

    products = demo.load_demo_catalogue()
    db.session.flush()
    product = products[demo.DISK_PRODUCT]
    other = make_client(clock)
    mine, theirs = (
        Service(client_id=owner.id, product_id=product.id, cycle="monthly", currency="RUB",
                registration_date=clock.now().date(), created_at=clock.now())
        for owner in (desk.client, other)
    )  # fmt: skip
    db.session.add_all([mine, theirs])
    db.session.commit()
    form = ivan.get("/tickets/new").get_data(as_text=True)
    offered = form.split('name="service_id"')[1].split("</select>")[0]
    assert f'value="{mine.id}"' in offered and f'value="{theirs.id}"' not in offered
    refused = _new(ivan, desk, service_id=str(theirs.id))
    assert refused.status_code == 200 and db.session.scalar(select(Ticket)) is None
    assert _new(ivan, desk, service_id=str(mine.id)).status_code == 302
    assert db.session.scalar(select(Ticket)).service_id == mine.id
    ticket = db.session.scalar(select(Ticket))
    page = ivan.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    shown = page.split('id="related-service"')[1].split("</p>")[0]
    assert product.name in shown and f'href="/services/{mine.id}"' in shown
    assert "Ожидает" in shown  # its status
    staff_page = staff_web.get(f"/admin/support/{ticket.id}").get_data(as_text=True)
    card = staff_page.split('id="related-service"')[1].split("</div></div>")[0]
    assert product.name in card and f'href="/admin/services/{mine.id}"' in card
    ticket.service_id = theirs.id  # a foreign id (never offered) shows nothing
    db.session.commit()
    assert 'id="related-service"' not in ivan.get(f"/tickets/{ticket.reference}").get_data(
        as_text=True
    )
