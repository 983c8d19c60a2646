"""Two-factor sign-in for clients: enrolment with a QR code, the code step at sign-in, single-use
recovery codes, turning it off with the password and a code; and the TOTP secret is never
stored in plain text (docs/security.md, "Two-factor sign-in and secrets at rest").

Codes are computed with pyotp at the app clock's time; tests move the clock, never sleep.
"""

import html
import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select

from portal.accounts import two_factor
from portal.accounts.models import AuditEntry, Client, RecoveryCode
from portal.core.extensions import db
from portal.testing.factories import PASSWORD
from portal.testing.web import WebClient

STEP = timedelta(seconds=30)
PAGE = "/profile/two-factor"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def code_at(secret: str, clock) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def recovery_codes(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    listed = re.search(r'id="recovery-codes">(.*?)</ol>', text(response), re.S).group(1)
    return re.findall(r"<code[^>]*>([a-z0-9-]+)</code>", listed)


def enrol(web: WebClient, clock) -> tuple[str, list[str]]:
    """Turn two-factor on through the page; the secret shown there and the recovery codes."""
    web.submit(f"{PAGE}/enrol", {}, form_page=PAGE)
    page = text(web.get(PAGE))
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    confirmed = web.submit(f"{PAGE}/confirm", {"code": code_at(secret, clock)}, form_page=PAGE)
    assert "no-store" in confirmed.headers["Cache-Control"]
    return secret, recovery_codes(confirmed)


def password_step(web: WebClient, client: Client, next_url: str = ""):
    return web.submit("/login", {"email": client.email, "password": PASSWORD, "next": next_url})


def audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture
def enrolled(client_web, client_account, clock) -> tuple[str, list[str]]:
    secret, codes = enrol(client_web, clock)
    clock.advance(STEP)  # the confirmation code is spent; the next step brings a fresh one
    return secret, codes


def test_enrolment_shows_a_qr_code_and_the_key_and_needs_a_right_code(
    client_web, client_account, clock
) -> None:
    assert "Two-factor sign-in is off." in text(client_web.get("/profile"))
    assert "Set up two-factor sign-in" in text(client_web.get(PAGE))
    client_web.submit(f"{PAGE}/enrol", {}, form_page=PAGE)
    page = text(client_web.get(PAGE))
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    qr = re.search(r'<div class="mb-2" id="totp-qr">(.*?)</div>', page, re.S).group(1)
    assert qr.startswith("<svg") and "<path" in qr and "totp-qr" in qr
    assert "<img" not in page.split('id="totp-qr"')[1].split("</div>")[0]  # inline, no request
    assert f"secret={secret}" in page

    refused = client_web.submit(f"{PAGE}/confirm", {"code": "000000"}, form_page=PAGE)
    assert "Wrong or already used code." in text(client_web.get(refused.location))
    db.session.refresh(client_account)
    assert not client_account.two_factor_enabled

    right = code_at(secret, clock)
    confirmed = client_web.submit(
        f"{PAGE}/confirm", {"code": f"{right[:3]} {right[3:]}"}, form_page=PAGE
    )
    codes = recovery_codes(confirmed)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", code) for code in codes)
    db.session.refresh(client_account)
    assert client_account.two_factor_enabled
    [entry] = audit("client.two_factor_enable")
    assert entry.client_id == client_account.id and secret not in str(entry.after)
    page = text(client_web.get(PAGE))  # still signed in here
    assert "Recovery codes left: 10." in page and codes[0] not in page  # shown once only


def test_the_secret_and_the_codes_are_not_stored_in_plain_text(
    client_account, enrolled, clock
) -> None:
    secret, codes = enrolled
    with db.engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT totp_secret FROM client WHERE id = :id"), {"id": client_account.id}
        ).scalar_one()
        hashes = connection.execute(sa.text("SELECT code_hash FROM recovery_code")).scalars().all()
    assert secret not in stored and secret.lower() not in stored.lower()
    assert len(stored) > 100  # a Fernet token
    assert len(hashes) == 10
    plain = {code.replace("-", "") for code in codes}
    assert not plain & set(hashes) and not any(code in h for code in plain for h in hashes)


def test_sign_in_needs_a_code_and_a_recovery_code_works_once(
    app: Flask, client_account, enrolled, clock
) -> None:
    secret, codes = enrolled
    web = app.test_client()
    assert password_step(web, client_account, "/services").location == "/login/code"
    assert web.get("/").status_code == 302  # not signed in yet

    wrong = web.submit("/login/code", {"code": "000000"})
    assert wrong.status_code == 200 and "Wrong or already used code." in text(wrong)
    assert web.get("/").status_code == 302

    used = web.submit("/login/code", {"code": codes[3].upper()})  # typed in any case
    assert used.status_code == 302 and used.location == "/services"
    assert "Recovery codes left: 9." in text(web.get("/"))
    [entry] = audit("client.two_factor_recovery_code_used")
    assert entry.client_id == client_account.id

    again = app.test_client()
    password_step(again, client_account)
    replay = again.submit("/login/code", {"code": codes[3]})
    assert "Wrong or already used code." in text(replay)
    assert again.get("/").status_code == 302

    by_app = again.submit("/login/code", {"code": code_at(secret, clock)})
    assert by_app.status_code == 302 and again.get("/").status_code == 200


def test_the_code_page_without_the_password_step_sends_back_to_sign_in(web) -> None:
    response = web.get("/login/code")
    assert response.status_code == 302 and response.location == "/login"


def test_a_client_without_two_factor_signs_in_with_the_password(app: Flask, client_account):
    web = app.test_client()
    assert password_step(web, client_account).location == "/"


def test_turning_it_on_ends_other_sessions(app: Flask, client_web, client_account, clock) -> None:
    other = app.test_client()
    other.sign_in_client(client_account.email)
    enrol(client_web, clock)
    assert other.get("/").status_code == 302
    assert client_web.get("/").status_code == 200


def test_turning_it_off_needs_the_password_and_a_code(
    client_web, client_account, enrolled, clock
) -> None:
    secret, _codes = enrolled
    wrong_password = client_web.submit(
        f"{PAGE}/disable", {"password": "not-it", "code": code_at(secret, clock)}, form_page=PAGE
    )
    assert "The password is wrong." in text(client_web.get(wrong_password.location))
    wrong_code = client_web.submit(
        f"{PAGE}/disable", {"password": PASSWORD, "code": "123456"}, form_page=PAGE
    )
    assert "Wrong or already used code." in text(client_web.get(wrong_code.location))
    db.session.refresh(client_account)
    assert client_account.two_factor_enabled

    client_web.submit(
        f"{PAGE}/disable", {"password": PASSWORD, "code": code_at(secret, clock)}, form_page=PAGE
    )
    db.session.expire_all()
    client = db.session.get(Client, client_account.id)
    assert not client.two_factor_enabled and client.totp_secret is None
    assert db.session.scalars(select(RecoveryCode)).all() == []
    [entry] = audit("client.two_factor_disable")
    assert entry.before == {"two_factor": True} and entry.actor_id == client_account.id
    assert "Two-factor sign-in is off." in text(client_web.get("/profile"))


def test_new_recovery_codes_replace_the_old_ones(
    app: Flask, client_web, client_account, enrolled, clock
) -> None:
    secret, old = enrolled
    refused = client_web.submit(
        f"{PAGE}/recovery-codes", {"password": PASSWORD, "code": "000000"}, form_page=PAGE
    )
    assert "Wrong or already used code." in text(client_web.get(refused.location))
    new = recovery_codes(
        client_web.submit(
            f"{PAGE}/recovery-codes",
            {"password": PASSWORD, "code": code_at(secret, clock)},
            form_page=PAGE,
        )
    )
    assert len(new) == 10 and not set(new) & set(old)

    web = app.test_client()
    password_step(web, client_account)
    assert "Wrong or already used code." in text(web.submit("/login/code", {"code": old[0]}))
    assert web.submit("/login/code", {"code": new[0]}).status_code == 302


def test_messages_in_russian(app: Flask, client_account, enrolled) -> None:
    web = app.test_client()
    web.submit("/language", {"language": "ru", "next": "/login"}, form_page="/login")
    password_step(web, client_account)
    page = text(web.submit("/login/code", {"code": "000000"}))
    assert "Неверный или уже использованный код." in page
    assert "Код из приложения-аутентификатора или резервный код" in page


def test_service_refuses_a_second_enrolment(app: Flask, client_account, enrolled) -> None:
    db.session.refresh(client_account)
    with pytest.raises(two_factor.TwoFactorError):
        two_factor.start_enrolment(client_account)


def test_staff_reset_a_lost_phone(app: Flask, staff_web, client_account, enrolled) -> None:
    summary = f"/admin/clients/{client_account.id}"
    assert 'id="reset-two-factor"' in staff_web.get(summary).get_data(as_text=True)
    staff_web.submit(f"{summary}/two-factor/reset", {}, form_page=summary)
    db.session.expire_all()
    assert not db.session.get(Client, client_account.id).two_factor_enabled
    [entry] = audit("client.two_factor_reset")
    assert entry.actor_type.value == "staff" and entry.client_id == client_account.id
    assert password_step(app.test_client(), client_account).location == "/"


def test_guessing_codes_on_an_open_session_is_rate_limited(
    client_web, client_account, enrolled, clock
) -> None:
    secret, _codes = enrolled
    for _ in range(5):
        refused = client_web.submit(
            f"{PAGE}/disable", {"password": PASSWORD, "code": "000000"}, form_page=PAGE
        )
        assert refused.status_code == 302
    blocked = client_web.submit(
        f"{PAGE}/disable", {"password": PASSWORD, "code": code_at(secret, clock)}, form_page=PAGE
    )
    assert blocked.status_code == 429
    db.session.refresh(client_account)
    assert client_account.two_factor_enabled
