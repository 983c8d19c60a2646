"""Sign-in for staff and clients: wrong password, unknown user, CSRF, rate limits, separation
of the two identities, safe ``next`` redirects, blocked staff, sign-out."""

import pytest
from flask import Flask

from portal.core.extensions import db
from portal.testing.factories import PASSWORD
from portal.testing.web import WebClient

LOGIN = {"admin": "/admin/login", "client": "/login"}


@pytest.fixture
def accounts(staff_member, client_account):
    return {"admin": staff_member, "client": client_account}


@pytest.mark.parametrize("area", ["admin", "client"])
def test_wrong_password_and_unknown_user_get_the_same_answer(
    web: WebClient, accounts, area: str
) -> None:
    wrong = web.submit(LOGIN[area], {"email": accounts[area].email, "password": "nope-nope-nope"})
    unknown = web.submit(LOGIN[area], {"email": "nobody@example.com", "password": PASSWORD})
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Wrong e-mail or password." in response.get_data(as_text=True)
    assert web.get("/admin/" if area == "admin" else "/").status_code == 302


@pytest.mark.parametrize("area", ["admin", "client"])
def test_email_is_case_insensitive(web: WebClient, accounts, area: str) -> None:
    response = web.submit(
        LOGIN[area], {"email": accounts[area].email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.parametrize("area", ["admin", "client"])
def test_post_without_csrf_token_is_refused(web: WebClient, accounts, area: str) -> None:
    response = web.post(LOGIN[area], data={"email": accounts[area].email, "password": PASSWORD})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def test_rate_limit_per_account(web: WebClient, staff_member) -> None:
    bad = {"email": staff_member.email, "password": "wrong-password"}
    for _ in range(5):
        assert web.submit("/admin/login", bad).status_code == 200
    blocked = web.submit("/admin/login", {"email": staff_member.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    other_account = web.submit("/admin/login", {"email": "other@example.com", "password": "x"})
    assert other_account.status_code == 200  # the account limit does not block other accounts


def test_rate_limit_per_address(make_app, client_account) -> None:
    strict = make_app(login_rate_limit_address="3 per 5 minutes")
    with strict.app_context():
        web = strict.test_client()
        for n in range(3):
            answer = web.submit("/login", {"email": f"guess{n}@example.com", "password": "x"})
            assert answer.status_code == 200
        blocked = web.submit("/login", {"email": client_account.email, "password": PASSWORD})
        assert blocked.status_code == 429


def test_successful_sign_ins_do_not_count_against_the_limit(web: WebClient, client_account) -> None:
    for _ in range(7):
        web.sign_in_client(client_account.email)
        web.submit("/logout", {}, form_page="/")


def test_staff_session_grants_nothing_in_the_client_area(staff_web: WebClient) -> None:
    assert staff_web.get("/admin/").status_code == 200
    response = staff_web.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_client_session_grants_nothing_in_the_admin_area(client_web: WebClient) -> None:
    assert client_web.get("/").status_code == 200
    response = client_web.get("/admin/clients")
    assert response.status_code == 302
    assert response.location == "/admin/login?next=/admin/clients"


def test_both_identities_can_coexist_without_mixing(
    app: Flask, staff_member, client_account
) -> None:
    web = app.test_client()
    web.sign_in_staff(staff_member.email)
    web.sign_in_client(client_account.email)
    assert client_account.email in web.get("/").get_data(as_text=True)
    assert staff_member.full_name in web.get("/admin/").get_data(as_text=True)
    web.submit("/admin/logout", {}, form_page="/admin/")
    assert web.get("/admin/").status_code == 302
    assert web.get("/").status_code == 200


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_never_leaves_the_site(web: WebClient, client_account, target: str) -> None:
    response = web.submit(
        "/login", {"email": client_account.email, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.location == "/"


def test_next_within_the_site_is_followed(web: WebClient, staff_member) -> None:
    first = web.get("/admin/clients?q=abc")
    assert first.location == "/admin/login?next=/admin/clients?q%3Dabc"
    page = web.get(first.location).get_data(as_text=True)
    assert 'value="/admin/clients?q=abc"' in page
    response = web.submit(
        "/admin/login",
        {"email": staff_member.email, "password": PASSWORD, "next": "/admin/clients?q=abc"},
    )
    assert response.location == "/admin/clients?q=abc"


def test_blocked_staff_cannot_sign_in_and_is_signed_out(app: Flask, staff_member) -> None:
    web = app.test_client()
    web.sign_in_staff(staff_member.email)
    staff_member.is_active = False
    db.session.commit()
    assert web.get("/admin/").status_code == 302
    response = web.submit("/admin/login", {"email": staff_member.email, "password": PASSWORD})
    assert "Wrong e-mail or password." in response.get_data(as_text=True)


def test_password_change_signs_out_other_sessions(app: Flask, client_account) -> None:
    web = app.test_client()
    web.sign_in_client(client_account.email)
    client_account.set_password("a brand new password")
    db.session.commit()
    assert web.get("/").status_code == 302


def test_session_cookie_is_http_only_and_lax(app: Flask, client_account) -> None:
    web = app.test_client()
    response = web.submit("/login", {"email": client_account.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _from(app: Flask, address: str):  # type: ignore[no-untyped-def]
    """A browser at ``address``."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def test_throttled_address_does_not_lock_the_owner_out(app: Flask, client_account) -> None:
    attacker = _from(app, "203.0.113.7")
    bad = {"email": client_account.email, "password": "wrong-password"}
    answers = [attacker.submit("/login", bad).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    right = {"email": client_account.email, "password": PASSWORD}
    assert attacker.submit("/login", right).status_code == 429
    owner = _from(app, "198.51.100.20")
    assert owner.submit("/login", right).status_code == 302  # the right password, elsewhere


def test_many_addresses_guessing_one_account_only_known_browsers_may_go_on(
    make_app, client_account
) -> None:
    strict = make_app(login_rate_limit_account_total="4 per hour")
    with strict.app_context():
        right = {"email": client_account.email, "password": PASSWORD}
        known = _from(strict, "198.51.100.20")
        known.sign_in_client(client_account.email)  # this browser has signed in before
        known.submit("/logout", {}, form_page="/")
        for n in range(4):
            guess = {"email": client_account.email, "password": f"guess {n}"}
            assert _from(strict, f"203.0.113.{n}").submit("/login", guess).status_code == 200
        new_browser = _from(strict, "192.0.2.50")
        refused = new_browser.submit("/login", right)
        assert refused.status_code == 429
        assert "Sign in from a device you have used before" in refused.get_data(as_text=True)
        known.environ_base["REMOTE_ADDR"] = "192.0.2.51"  # the owner's laptop, another network
        assert known.submit("/login", right).status_code == 302


def test_proxy_hops_take_the_address_from_the_proxy(make_app, client_account) -> None:
    behind_proxy = make_app(proxy_hops=1, login_rate_limit_address="2 per 5 minutes")
    with behind_proxy.app_context():
        proxy = _from(behind_proxy, "10.0.0.1")  # every request comes from the proxy

        def attempt(client_address: str) -> int:
            return proxy.submit(
                "/login",
                {"email": f"x{client_address}@example.com", "password": "x"},
                headers={"X-Forwarded-For": client_address},
            ).status_code

        assert [attempt("203.0.113.7") for _ in range(3)] == [200, 200, 429]
        assert attempt("198.51.100.20") == 200  # another user behind the same proxy
