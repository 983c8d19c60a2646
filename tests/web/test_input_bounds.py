"""Input bounds at the points the issue named: a ticket body of ten million characters, numbers
that ``isdigit()``/``int()``/``Decimal()`` take and the database does not, money typed as
"１００" or "1e3", and a piped letter far longer than a ticket keeps. docs/security.md, "Input
bounds"."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.invoicing.models import Invoice
from portal.support.models import Ticket, TicketAttachment
from portal.testing.web import WebClient
from portal.web.forms import MAX_TEXT
from tests.fixtures.mail.desk import make_desk, pipe


@pytest.fixture
def desk(app: Flask, clock):  # type: ignore[no-untyped-def]
    return make_desk(clock)


@pytest.fixture
def ivan(app: Flask, desk) -> WebClient:  # type: ignore[no-untyped-def]
    web: WebClient = app.test_client()  # type: ignore[assignment]
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    web.sign_in_client(desk.client.email)
    return web


def _tickets() -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket))


def test_a_ticket_body_of_ten_million_characters_is_not_stored(ivan: WebClient, desk) -> None:  # type: ignore[no-untyped-def]
    data = {"subject": "Длинное", "department_id": desk.support.id, "body": "x" * 10_000_000}
    response = ivan.submit("/tickets/new", data, content_type="multipart/form-data")
    assert response.status_code == 413  # Flask refuses a form field over 500 000 bytes
    assert "Отправленный файл или текст слишком велик." in response.get_data(as_text=True)
    assert _tickets() == 0


def test_a_value_past_the_backstop_is_refused_with_its_length(ivan: WebClient, desk) -> None:  # type: ignore[no-untyped-def]
    data = {"subject": "Длинное", "department_id": desk.support.id, "body": "x" * 200_001}
    response = ivan.submit("/tickets/new", data)
    assert response.status_code == 413
    assert "длиннее 200000 знаков" in response.get_data(as_text=True)
    assert ivan.get("/tickets", query_string={"q": "a\x00b"}).status_code == 400
    assert _tickets() == 0


def test_a_body_over_the_limit_is_refused_in_the_form_and_kept(ivan: WebClient, desk) -> None:  # type: ignore[no-untyped-def]
    body = "ы" * (MAX_TEXT + 1)
    data = {"subject": "Длинное", "department_id": desk.support.id, "body": body}
    response = ivan.submit("/tickets/new", data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Не больше {MAX_TEXT} знаков (в этом тексте {MAX_TEXT + 1})" in page
    assert body in page  # what was typed is still in the form
    assert _tickets() == 0


def test_crafted_numbers_in_list_searches_find_nothing(staff_web: WebClient) -> None:
    for url in ("/admin/clients", "/admin/support", "/admin/billing/invoices"):
        for q in ("²", "9999999999999999999999", "１００"):
            response = staff_web.get(url, query_string={"q": q, "page": q})
            assert response.status_code == 200, (url, q)


def test_add_funds_refuses_what_is_not_plain_decimal(client_web: WebClient) -> None:
    client_web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    for amount in ("1e309", "1E+100", "9999999999999999999999", "１００", "1_000", "1e3", "NaN"):
        response = client_web.submit("/add-funds", {"amount": amount})
        assert response.status_code == 400, amount
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0
    assert client_web.submit("/add-funds", {"amount": "1 500,50"}).status_code == 302


def test_money_fields_answer_in_the_users_language(staff_web: WebClient, client_account) -> None:  # type: ignore[no-untyped-def]
    staff_web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    url = f"/admin/clients/{client_account.id}/profile"
    for limit in ("１００", "1_000", "1e3", "inf", "1" * 15):
        page = staff_web.submit(url, {"credit_limit": limit}).get_data(as_text=True)
        assert "Введите число цифрами, например 1500 или 1500,50" in page, limit


def test_a_piped_letter_is_cut_to_the_limit_and_attached_whole(app: Flask, clock) -> None:
    desk = make_desk(clock)
    letter = EmailMessage()
    letter["From"] = desk.client.email
    letter["To"] = "support@portal.test"
    letter["Subject"] = "Очень\x00 длинное письмо"
    letter["Message-ID"] = "<long@romashka.example>"
    text = "Строка журнала ошибок.\n" * 10_000  # 230 000 characters
    letter.set_content(text)
    pipe(app, letter.as_bytes())
    ticket = db.session.scalar(select(Ticket))
    (message,) = ticket.messages
    assert ticket.subject == "Очень длинное письмо"
    assert len(message.body) < MAX_TEXT + 300 and "letter.txt" in message.body
    attachment = db.session.scalar(select(TicketAttachment))
    assert attachment.filename == "letter.txt"
