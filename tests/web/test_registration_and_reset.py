"""Client registration and password reset by e-mailed link (through the outbox and a real SMTP
server). Neither answer tells whether the e-mail has an account (docs/security.md, "Account
discovery"), and both are limited."""

import re

from flask import Flask
from sqlalchemy import select

from portal.accounts.models import Client
from portal.core.extensions import db
from portal.messaging.models import OutboundMessage
from portal.messaging.outbox import deliver_outbox
from portal.testing.factories import PASSWORD
from portal.testing.web import WebClient

FORM = {
    "first_name": "Ольга",
    "last_name": "Смирнова",
    "company": "ИП Смирнова",
    "email": "Olga@Example.com",
    "password": "long enough password",
    "confirm": "long enough password",
}


def link_in(message, path: str) -> str:
    return re.search(rf"http://localhost({path}/\S+)", message.get_content()).group(1)


def page_text(response) -> str:
    """The page without its CSRF token (a new one on every page)."""
    return re.sub(r'name="csrf_token"[^>]*>', "", response.get_data(as_text=True))


def queued() -> list[OutboundMessage]:
    return list(db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_register_by_mailed_link_then_signed_in(web: WebClient, mailbox) -> None:
    response = web.submit("/register", FORM)
    assert response.status_code == 302 and response.location == "/login"
    assert db.session.scalar(select(Client)) is None  # nothing before the link is opened
    assert mailbox == []  # queued, never sent in the request
    deliver_outbox()
    (message,) = mailbox
    assert message["To"] == "olga@example.com"
    link = link_in(message, "/register")

    assert "olga@example.com" in web.get(link).get_data(as_text=True)
    created = web.submit(link, {})
    assert created.status_code == 302 and created.location == "/"
    assert "Ольга" in web.get("/").get_data(as_text=True)
    client = db.session.scalar(select(Client).where(Client.email == "olga@example.com"))
    assert client.password_hash.startswith("$argon2")
    assert "long enough password" not in link and "argon2" not in link
    web.submit("/logout", {}, form_page="/")
    web.sign_in_client("olga@example.com", "long enough password")

    again = web.get(link, follow_redirects=True)  # the link works once
    assert "invalid or has expired, or was used already" in again.get_data(as_text=True)


def test_register_errors_are_shown_and_keep_the_input(web: WebClient) -> None:
    data = {**FORM, "confirm": "different"}
    page = web.submit("/register", data).get_data(as_text=True)
    assert "The passwords differ." in page
    assert 'value="Смирнова"' in page
    short = web.submit("/register", {**FORM, "password": "short", "confirm": "short"})
    assert "at least 10 characters" in short.get_data(as_text=True)


def test_register_with_a_taken_address_answers_the_same_and_tells_the_owner(
    web: WebClient, client_account, mailbox
) -> None:
    new = web.submit("/register", FORM, follow_redirects=True)
    taken = web.submit(
        "/register", {**FORM, "email": client_account.email.upper()}, follow_redirects=True
    )
    assert new.status_code == taken.status_code == 200
    assert page_text(new) == page_text(taken)
    assert "Check your mail" in taken.get_data(as_text=True)
    assert "already exists" not in taken.get_data(as_text=True)
    deliver_outbox()
    to_owner = next(m for m in mailbox if m["To"] == client_account.email)
    body = to_owner.get_content()
    assert "Someone tried to register" in to_owner["Subject"]
    assert "http://localhost/login" in body and "http://localhost/password/reset" in body
    db.session.refresh(client_account)
    web.sign_in_client(client_account.email, PASSWORD)  # the account is untouched


def test_password_reset_by_mail(app: Flask, web: WebClient, client_account, mailbox) -> None:
    response = web.submit("/password/reset", {"email": client_account.email})
    assert response.status_code == 302
    assert mailbox == []  # queued, never sent in the request
    deliver_outbox()
    (message,) = mailbox
    assert message["To"] == client_account.email
    link = link_in(message, "/password/reset")

    page = web.submit(link, {"password": "my new password!", "confirm": "my new password!"})
    assert page.status_code == 302 and page.location == "/login"
    web.sign_in_client(client_account.email, "my new password!")

    reused = web.get(link)
    assert reused.status_code == 302  # the link works once
    assert "/password/reset" in reused.location


def test_reset_answers_the_same_for_unknown_and_real_accounts(
    web: WebClient, client_account
) -> None:
    real = web.submit("/password/reset", {"email": client_account.email}, follow_redirects=True)
    unknown = web.submit("/password/reset", {"email": "nobody@example.com"}, follow_redirects=True)
    assert real.status_code == unknown.status_code == 200
    assert page_text(real) == page_text(unknown)
    assert "If an account with this e-mail exists" in unknown.get_data(as_text=True)
    assert [m.to_addrs for m in queued()] == [[client_account.email]]


def test_reset_link_survives_signing_out_elsewhere(web: WebClient, client_account) -> None:
    web.submit("/password/reset", {"email": client_account.email})
    (row,) = queued()
    link = re.search(r"http://localhost(/password/reset/\S+)", row.text).group(1)
    other = web.application.test_client()
    other.sign_in_client(client_account.email)
    other.submit("/logout", {}, form_page="/")
    assert web.get(link).status_code == 200


def test_reset_requests_are_limited_per_email(make_app, client_account) -> None:
    strict = make_app(mail_request_rate_limit_email="2 per hour")
    with strict.app_context():
        web = strict.test_client()
        for email in (client_account.email, "nobody@example.com"):
            answers = [
                web.submit("/password/reset", {"email": email}).status_code for _ in range(3)
            ]
            assert answers == [302, 302, 429]  # the same for a real and an unknown account


def test_registration_is_limited_per_address(make_app) -> None:
    strict = make_app(mail_request_rate_limit_address="2 per hour")
    with strict.app_context():
        web = strict.test_client()
        answers = [
            web.submit("/register", {**FORM, "email": f"new{n}@example.com"}).status_code
            for n in range(3)
        ]
        assert answers == [302, 302, 429]
        assert len(queued()) == 2


def test_forged_reset_token_is_refused(web: WebClient, client_account) -> None:
    response = web.get("/password/reset/not-a-real-token", follow_redirects=True)
    assert "invalid or has expired" in response.get_data(as_text=True)
    assert web.get("/login").status_code == 200
    web.sign_in_client(client_account.email, PASSWORD)


def test_the_registration_form_asks_for_the_e_mail_first(web: WebClient) -> None:
    page = web.get("/register").get_data(as_text=True)
    form = page.split('<form method="post" novalidate>')[1]
    names = [chunk.split('"')[0] for chunk in form.split(' name="')[1:]]
    visible = [name for name in names if name not in ("csrf_token", "next")]
    assert visible[:2] == ["email", "first_name"] and visible[-2:] == ["password", "confirm"]
