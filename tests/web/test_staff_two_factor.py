"""TOTP two-factor authentication for staff: enrolment, the sign-in code step, refusal of
wrong, stale and reused codes, the requirement for everyone, recovery by an administrator.

Codes are computed with pyotp at the app clock's time; tests move the clock, never sleep.
"""

import html
import re
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from portal.accounts import two_factor
from portal.accounts.models import AuditEntry, Staff
from portal.core.extensions import db
from portal.testing.factories import PASSWORD, make_staff
from portal.testing.web import WebClient, csrf_token_from

STEP = timedelta(seconds=30)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def code_at(secret: str, clock, offset: timedelta = timedelta(0)) -> str:
    return pyotp.TOTP(secret).at(clock.now() + offset)


def recovery_codes(response) -> list[str]:
    """The recovery codes a page shows (once, right after they are made)."""
    assert response.status_code == 200, response.status_code
    listed = re.search(r'id="recovery-codes">(.*?)</ol>', text(response), re.S).group(1)
    return re.findall(r"<code[^>]*>([a-z0-9-]+)</code>", listed)


def enrol_with_codes(web: WebClient, clock) -> tuple[str, list[str]]:
    """Set up 2FA through the profile page; the secret shown there and the recovery codes."""
    web.submit("/admin/profile/two-factor/enrol", {}, form_page="/admin/profile")
    page = web.get("/admin/profile").get_data(as_text=True)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    confirmed = web.submit(
        "/admin/profile/two-factor/confirm",
        {"code": code_at(secret, clock)},
        form_page="/admin/profile",
    )
    return secret, recovery_codes(confirmed)


def enrol(web: WebClient, clock) -> str:
    return enrol_with_codes(web, clock)[0]


def audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def password_step(web: WebClient, staff: Staff, next_url: str = ""):
    return web.submit(
        "/admin/login", {"email": staff.email, "password": PASSWORD, "next": next_url}
    )


@pytest.fixture
def enrolled(app: Flask, staff_member, staff_web, clock) -> str:
    secret = enrol(staff_web, clock)
    clock.advance(STEP)  # the confirmation code is spent; the next step brings a fresh one
    return secret


def test_enrolment_shows_secret_and_uri_and_needs_a_right_code(
    staff_web, staff_member, clock
) -> None:
    assert "Set up two-factor authentication" in text(staff_web.get("/admin/profile"))
    staff_web.submit("/admin/profile/two-factor/enrol", {}, form_page="/admin/profile")
    page = text(staff_web.get("/admin/profile"))
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert f"otpauth://totp/Billing%20Portal:{staff_member.email.replace('@', '%40')}" in page
    assert f"secret={secret}" in page

    wrong = str((int(code_at(secret, clock)) + 1) % 1_000_000).zfill(6)
    refused = staff_web.submit(
        "/admin/profile/two-factor/confirm", {"code": wrong}, form_page="/admin/profile"
    )
    assert "Wrong or already used code." in text(staff_web.get(refused.location))
    db.session.refresh(staff_member)
    assert not staff_member.two_factor_enabled

    right = code_at(secret, clock)
    staff_web.submit(
        "/admin/profile/two-factor/confirm",
        {"code": f"{right[:3]} {right[3:]}"},  # as apps display it
        form_page="/admin/profile",
    )
    db.session.refresh(staff_member)
    assert staff_member.two_factor_enabled and two_factor.secret_of(staff_member) == secret
    [entry] = audit("staff.two_factor_enable")
    assert entry.after == {"two_factor": True} and secret not in str(entry.after)
    assert "On since" in text(staff_web.get("/admin/profile"))


def test_sign_in_needs_the_code_after_the_password(
    app: Flask, staff_member, enrolled, clock
) -> None:
    web = app.test_client()
    response = password_step(web, staff_member, "/admin/plugins")
    assert response.location == "/admin/login/code"
    assert web.get("/admin/").status_code == 302  # not signed in yet

    bad = web.submit("/admin/login/code", {"code": "000000"})
    assert bad.status_code == 200 and "Wrong or already used code." in text(bad)
    assert web.get("/admin/").status_code == 302

    good = web.submit("/admin/login/code", {"code": code_at(enrolled, clock)})
    assert good.status_code == 302 and good.location == "/admin/plugins"
    assert web.get("/admin/").status_code == 200


def test_code_page_without_the_password_step_sends_back_to_sign_in(web) -> None:
    response = web.get("/admin/login/code")
    assert response.status_code == 302 and response.location == "/admin/login"


def test_a_code_is_never_accepted_twice(app: Flask, staff_member, enrolled, clock) -> None:
    code = code_at(enrolled, clock)
    first = app.test_client()
    password_step(first, staff_member)
    assert first.submit("/admin/login/code", {"code": code}).status_code == 302

    second = app.test_client()
    password_step(second, staff_member)
    replay = second.submit("/admin/login/code", {"code": code})
    assert "Wrong or already used code." in text(replay)
    clock.advance(STEP)
    assert second.submit("/admin/login/code", {"code": code_at(enrolled, clock)}).status_code == 302


def test_an_older_code_is_refused_after_a_newer_one(
    app: Flask, staff_member, enrolled, clock
) -> None:
    previous = code_at(enrolled, clock, -STEP)
    web = app.test_client()
    password_step(web, staff_member)
    assert web.submit("/admin/login/code", {"code": code_at(enrolled, clock)}).status_code == 302
    other = app.test_client()
    password_step(other, staff_member)
    assert "Wrong or already used code." in text(
        other.submit("/admin/login/code", {"code": previous})
    )


def test_drift_of_one_step_is_tolerated_not_more(app: Flask, staff_member, enrolled, clock) -> None:
    clock.advance(5 * STEP)  # far from the step spent on enrolment
    web = app.test_client()
    password_step(web, staff_member)
    too_old = code_at(enrolled, clock, -2 * STEP)
    assert "Wrong or already used code." in text(web.submit("/admin/login/code", {"code": too_old}))
    too_new = code_at(enrolled, clock, 2 * STEP)
    assert "Wrong or already used code." in text(web.submit("/admin/login/code", {"code": too_new}))
    slow_phone = code_at(enrolled, clock, -STEP)
    assert web.submit("/admin/login/code", {"code": slow_phone}).status_code == 302


def test_the_password_step_expires(app: Flask, staff_member, enrolled, clock) -> None:
    web = app.test_client()
    password_step(web, staff_member)
    token = csrf_token_from(web.get("/admin/login/code").get_data(as_text=True))
    clock.advance(timedelta(minutes=6))
    response = web.post(
        "/admin/login/code", data={"code": code_at(enrolled, clock), "csrf_token": token}
    )
    assert response.status_code == 302 and response.location == "/admin/login"
    assert web.get("/admin/").status_code == 302


def test_the_code_step_is_rate_limited(app: Flask, staff_member, enrolled, clock) -> None:
    web = app.test_client()
    password_step(web, staff_member)
    for _ in range(5):
        assert web.submit("/admin/login/code", {"code": "000000"}).status_code == 200
    blocked = web.submit("/admin/login/code", {"code": code_at(enrolled, clock)})
    assert blocked.status_code == 429
    assert web.get("/admin/").status_code == 302


def test_disable_needs_a_code(staff_web, staff_member, enrolled, clock) -> None:
    refused = staff_web.submit(
        "/admin/profile/two-factor/disable", {"code": "123456"}, form_page="/admin/profile"
    )
    assert "Wrong or already used code." in text(staff_web.get(refused.location))
    staff_web.submit(
        "/admin/profile/two-factor/disable",
        {"code": code_at(enrolled, clock)},
        form_page="/admin/profile",
    )
    db.session.refresh(staff_member)
    assert not staff_member.two_factor_enabled and staff_member.totp_secret is None
    [entry] = audit("staff.two_factor_disable")
    assert entry.before == {"two_factor": True} and entry.actor_id == staff_member.id


def test_required_for_everyone_sends_staff_to_enrolment(
    app: Flask, staff_web, staff_member, clock
) -> None:
    response = staff_web.submit("/admin/settings/security", {"require_two_factor": "y"})
    assert response.status_code == 302
    assert two_factor.required()
    [entry] = audit("setting.update")
    assert entry.after == {"require_two_factor": True} and entry.entity_id == "require_two_factor"

    support = make_staff(clock, role="support")
    web = app.test_client()
    signed = password_step(web, support, "/admin/section/clients")
    assert signed.location == "/admin/section/clients"
    for url in ("/admin/", "/admin/section/clients", "/admin/staff"):
        blocked = web.get(url)
        assert blocked.status_code == 302 and blocked.location == "/admin/profile", url
    profile = text(web.get("/admin/profile"))
    assert "Two-factor authentication is required: set it up to continue." in profile

    secret = enrol(web, clock)
    assert web.get("/admin/").status_code == 200

    clock.advance(STEP)
    refused = web.submit(
        "/admin/profile/two-factor/disable",
        {"code": code_at(secret, clock)},
        form_page="/admin/profile",
    )
    assert "required for all staff" in text(web.get(refused.location))
    db.session.expire_all()
    assert db.session.get(Staff, support.id).two_factor_enabled


def test_an_administrator_resets_a_lost_phone(app: Flask, staff_web, clock) -> None:
    support = make_staff(clock, role="support")
    support_web = app.test_client()
    support_web.sign_in_staff(support.email)
    secret = enrol(support_web, clock)
    assert secret

    page = text(staff_web.get(f"/admin/staff/{support.id}"))
    assert "Reset two-factor authentication" in page
    staff_web.submit(
        f"/admin/staff/{support.id}/two-factor/reset", {}, form_page=f"/admin/staff/{support.id}"
    )
    db.session.refresh(support)
    assert not support.two_factor_enabled
    [entry] = audit("staff.two_factor_reset")
    assert entry.entity_id == str(support.id) and entry.actor_type.value == "staff"

    fresh = app.test_client()
    assert password_step(fresh, support).location == "/admin/"  # the password is enough again


def test_reset_is_refused_for_oneself_and_for_a_higher_staff_member(
    app: Flask, staff_web, staff_member, enrolled, clock
) -> None:
    own = staff_web.submit(
        f"/admin/staff/{staff_member.id}/two-factor/reset",
        {},
        form_page=f"/admin/staff/{staff_member.id}",
    )
    assert "Turn off your own two-factor authentication" in text(staff_web.get(own.location))

    from portal.accounts.models import Permission, Role

    hr_role = Role(name="HR", permission_names=[Permission.STAFF_MANAGE])
    db.session.add(hr_role)
    db.session.commit()
    hr = make_staff(clock, role=hr_role)
    hr_web = app.test_client()
    hr_web.sign_in_staff(hr.email)
    refused = hr_web.submit(
        f"/admin/staff/{staff_member.id}/two-factor/reset", {}, form_page="/admin/staff"
    )
    assert "Only an administrator can change an administrator." in text(
        hr_web.get(refused.location)
    )
    db.session.refresh(staff_member)
    assert staff_member.two_factor_enabled
    assert audit("staff.two_factor_reset") == []


def test_enrolment_shows_a_qr_code_as_inline_svg(staff_web) -> None:
    staff_web.submit("/admin/profile/two-factor/enrol", {}, form_page="/admin/profile")
    page = text(staff_web.get("/admin/profile"))
    qr = re.search(r'<div class="mb-2" id="totp-qr">(.*?)</div>', page, re.S).group(1)
    assert qr.startswith("<svg") and "<path" in qr


def test_staff_recovery_codes_work_once_and_can_be_replaced(
    app: Flask, staff_member, staff_web, clock
) -> None:
    secret, codes = enrol_with_codes(staff_web, clock)
    assert len(codes) == 10
    clock.advance(STEP)
    web = app.test_client()
    password_step(web, staff_member, "/admin/plugins")
    used = web.submit("/admin/login/code", {"code": codes[0]})
    assert used.status_code == 302 and used.location == "/admin/plugins"
    [entry] = audit("staff.two_factor_recovery_code_used")
    assert entry.entity_id == str(staff_member.id)

    again = app.test_client()
    password_step(again, staff_member)
    assert "Wrong or already used code." in text(
        again.submit("/admin/login/code", {"code": codes[0]})
    )

    assert "Recovery codes left: 9." in text(staff_web.get("/admin/profile"))
    new = recovery_codes(
        staff_web.submit(
            "/admin/profile/two-factor/recovery-codes",
            {"code": code_at(secret, clock)},
            form_page="/admin/profile",
        )
    )
    assert not set(new) & set(codes)
    assert "Wrong or already used code." in text(
        again.submit("/admin/login/code", {"code": codes[1]})
    )
    assert again.submit("/admin/login/code", {"code": new[1]}).status_code == 302


def test_the_staff_secret_is_encrypted_in_the_database(staff_member, enrolled) -> None:
    import sqlalchemy as sa

    with db.engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT totp_secret FROM staff WHERE id = :id"), {"id": staff_member.id}
        ).scalar_one()
    assert enrolled not in stored and len(stored) > 100
