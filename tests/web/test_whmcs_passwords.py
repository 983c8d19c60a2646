"""Clients moved in from WHMCS sign in with their WHMCS passwords, which are then kept as argon2."""

from __future__ import annotations

import hashlib

import bcrypt
import pytest
from flask import Flask

from portal.accounts.legacy_passwords import stored_form
from portal.accounts.models import Client
from portal.core.extensions import db
from portal.testing.factories import make_client
from portal.testing.web import WebClient

WHMCS_PASSWORD = "whmcs-Пароль-2019"


def _php_bcrypt(password: str) -> str:
    return "$2y$" + bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()[4:]


def _salted_md5(password: str, salt: str = "x7Q:2") -> str:
    return hashlib.md5((salt + password).encode()).hexdigest() + ":" + salt


@pytest.mark.parametrize("whmcs_hash", [_php_bcrypt, _salted_md5], ids=["bcrypt", "md5-salted"])
def test_sign_in_with_a_whmcs_password_rehashes_it_with_argon2(
    app: Flask, web: WebClient, clock, whmcs_hash
) -> None:
    client = make_client(clock)
    client.password_hash = stored_form(whmcs_hash(WHMCS_PASSWORD))
    db.session.commit()
    email, token = client.email, client.session_token

    wrong = web.submit("/login", {"email": email, "password": WHMCS_PASSWORD + "!"})
    assert "Wrong e-mail or password." in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Client, client.id).password_hash.startswith("whmcs$")

    web.sign_in_client(email, WHMCS_PASSWORD)
    assert web.get("/").status_code == 200

    db.session.expire_all()
    signed_in = db.session.get(Client, client.id)
    assert signed_in.password_hash.startswith("$argon2id$")
    assert signed_in.session_token == token  # the same password: no session was ended
    assert signed_in.check_password(WHMCS_PASSWORD)

    app.test_client().sign_in_client(email, WHMCS_PASSWORD)  # again, now against argon2
