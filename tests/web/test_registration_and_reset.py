"""Client registration and password reset by e-mailed link (through a real SMTP server)."""

import re

from flask import Flask
from sqlalchemy import select

from portal.accounts.models import Client
from portal.core.extensions import db
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


def test_register_signs_in_and_stores_a_hashed_password(web: WebClient) -> None:
    response = web.submit("/register", FORM)
    assert response.status_code == 302 and response.location == "/"
    assert "Ольга" in web.get("/").get_data(as_text=True)
    client = db.session.scalar(select(Client).where(Client.email == "olga@example.com"))
    assert client is not None
    assert client.password_hash.startswith("$argon2")
    assert "long enough password" not in client.password_hash


def test_register_errors_are_shown_and_keep_the_input(web: WebClient, client_account) -> None:
    data = {**FORM, "email": client_account.email.upper(), "confirm": "different"}
    page = web.submit("/register", data).get_data(as_text=True)
    assert "The passwords differ." in page
    assert 'value="Смирнова"' in page
    data["confirm"] = data["password"]
    page = web.submit("/register", data).get_data(as_text=True)
    assert "An account with this e-mail already exists." in page
    short = web.submit("/register", {**FORM, "password": "short", "confirm": "short"})
    assert "at least 10 characters" in short.get_data(as_text=True)


def test_password_reset_by_mail(app: Flask, web: WebClient, client_account, mailbox) -> None:
    response = web.submit("/password/reset", {"email": client_account.email})
    assert response.status_code == 302
    assert len(mailbox) == 1
    message = mailbox[0]
    assert message["To"] == client_account.email
    body = message.get_content()
    link = re.search(r"http://localhost(/password/reset/\S+)", body).group(1)

    page = web.submit(link, {"password": "my new password!", "confirm": "my new password!"})
    assert page.status_code == 302 and page.location == "/login"
    web.sign_in_client(client_account.email, "my new password!")

    reused = web.get(link)
    assert reused.status_code == 302  # the link works once
    assert "/password/reset" in reused.location


def test_reset_for_unknown_email_says_the_same_and_sends_nothing(web: WebClient, mailbox) -> None:
    response = web.submit("/password/reset", {"email": "nobody@example.com"}, follow_redirects=True)
    assert "If an account with this e-mail exists" in response.get_data(as_text=True)
    assert mailbox == []


def test_forged_reset_token_is_refused(web: WebClient, client_account) -> None:
    response = web.get("/password/reset/not-a-real-token", follow_redirects=True)
    assert "invalid or has expired" in response.get_data(as_text=True)
    assert web.get("/login").status_code == 200
    web.sign_in_client(client_account.email, PASSWORD)
