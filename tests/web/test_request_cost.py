"""What every request costs (issue #17): static files run no query, runtime settings are read
from the process cache once a per-request token check says it is current, and the signed-in
account is loaded once."""

from __future__ import annotations

import pytest
from flask import url_for

from portal.core.extensions import db
from portal.platform import runtime_settings
from portal.platform.models import SettingsVersion
from tests.web.test_client_queries import counted


def _static_urls(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        return [
            url_for("web_assets.static", filename="portal.css"),
            url_for("bootstrap.static", filename="css/bootstrap.min.css"),
        ]


def test_a_static_file_runs_no_query(app, client_web, staff_web) -> None:
    for signed_in in (client_web, staff_web):
        assert signed_in.get("/" if signed_in is client_web else "/admin/").status_code == 200
        for url in _static_urls(app):
            with counted() as statements:
                response = signed_in.get(url)
            assert response.status_code == 200, url
            response.close()
            assert statements == [], url


def test_a_static_file_runs_no_query_in_a_fresh_process(make_app) -> None:
    fresh = make_app()
    with fresh.app_context():
        for url in _static_urls(fresh):
            with counted() as statements:
                response = fresh.test_client().get(url)
            assert response.status_code == 200, url
            response.close()
            assert statements == [], url


class _Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def moment(app, monkeypatch) -> _Monotonic:  # type: ignore[no-untyped-def]
    """The interval as in production (the test settings check on every request), on a clock
    that moves only when the test says."""
    monkeypatch.setitem(app.config["PORTAL"], "settings_check_seconds", 1)
    clock = _Monotonic()
    monkeypatch.setattr(runtime_settings, "_monotonic", clock)
    return clock


def test_a_change_made_by_another_worker_is_seen_on_the_next_admin_page_or_form(
    app, make_app, moment
) -> None:
    """Admin pages and every request that may write check the token on every request, however
    recent the last check (the clock of the interval stands still here)."""
    other = make_app(settings_check_seconds=1)  # another worker: its own cache, the same database
    with other.app_context():
        other_web = other.test_client()
        assert b"24:00" not in other_web.get("/login").data
        runtime_settings.put("invoice_due_days", 11)
    with other.test_request_context("/admin/"):
        assert runtime_settings.get("invoice_due_days") == 11

    # this process cached the settings before the change; the token check sees it
    with app.test_request_context("/admin/"):
        assert runtime_settings.get("invoice_due_days") == 11

    # a bump written by hand, as a worker running other code would
    runtime_settings.put("invoice_due_days", 12)
    with app.test_request_context("/admin/"):
        assert runtime_settings.get("invoice_due_days") == 12
    with other.app_context():
        db.session.execute(
            db.update(runtime_settings.Setting)
            .where(runtime_settings.Setting.key == "invoice_due_days")
            .values(value=13)
        )
        db.session.execute(db.update(SettingsVersion).values(token="bumped-by-hand"))
        db.session.commit()
    with app.test_request_context("/admin/"):
        assert runtime_settings.get("invoice_due_days") == 13
    with other.test_request_context("/login", method="POST"):  # a sign-in: may write
        assert runtime_settings.get("invoice_due_days") == 13
    with app.app_context():  # a job or a command: every read checks
        runtime_settings.put("invoice_due_days", 14)
    with other.app_context():
        assert runtime_settings.get("invoice_due_days") == 14


def test_other_pages_see_a_change_of_another_worker_within_the_interval(
    app, make_app, moment
) -> None:
    """GETs outside the admin area trust a check made in the last ``settings_check_seconds``
    (1 by default): the sign-in page runs no query, and a change reaches it that late."""
    other = make_app(settings_check_seconds=1)
    with app.test_request_context("/login"):
        assert runtime_settings.get("invoice_due_days", 14) == 14  # checked at 1000.0
    with other.app_context():
        runtime_settings.put("invoice_due_days", 21)

    moment.now = 1000.9
    with app.test_request_context("/login"), counted() as statements:
        assert runtime_settings.get("invoice_due_days", 14) == 14  # at most 1 s late
    assert statements == []
    with app.test_request_context("/"):  # the client dashboard: the same
        assert runtime_settings.get("invoice_due_days", 14) == 14
    moment.now = 1001.0
    with app.test_request_context("/login"):
        assert runtime_settings.get("invoice_due_days", 14) == 21
    with app.test_request_context("/login"), counted() as statements:
        assert runtime_settings.get("invoice_due_days", 14) == 21
    assert statements == []  # checked again at 1001.0

    # a change this process makes is seen by its next request, whatever the interval
    runtime_settings.put("invoice_due_days", 22)
    with app.test_request_context("/login"):
        assert runtime_settings.get("invoice_due_days") == 22

    # 0: every request checks
    every = make_app(settings_check_seconds=0)
    with every.test_request_context("/login"):
        assert runtime_settings.get("invoice_due_days") == 22
    with other.app_context():
        runtime_settings.put("invoice_due_days", 23)
    with every.test_request_context("/login"):
        assert runtime_settings.get("invoice_due_days") == 23


def test_the_sign_in_page_runs_no_query_once_the_settings_are_checked(app, moment) -> None:
    web = app.test_client()
    for url in ("/login", "/admin/login"):
        assert web.get(url).status_code == 200
        with counted() as statements:
            assert web.get(url).status_code == 200
        assert statements == [], url


def test_values_read_in_a_transaction_that_is_rolled_back_are_not_trusted(app, moment) -> None:
    """The interval never vouches for values read inside a transaction that changed them."""
    with app.test_request_context("/admin/settings", method="POST"):
        runtime_settings.put("invoice_due_days", 14)
        db.session.get(runtime_settings.Setting, "invoice_due_days").value = 30
        db.session.flush()
        assert runtime_settings.get("invoice_due_days") == 30  # cached, with the new token
        db.session.rollback()
    with app.test_request_context("/login"):
        assert runtime_settings.get("invoice_due_days") == 14


def test_a_change_is_seen_by_the_same_request_and_a_rollback_is_not_kept(app) -> None:
    with app.test_request_context():
        assert runtime_settings.get("invoice_due_days", 14) == 14
        runtime_settings.put("invoice_due_days", 21)
        assert runtime_settings.get("invoice_due_days") == 21
        db.session.add(runtime_settings.Setting(key="invoice_due_days_x", value=1))
        db.session.flush()
        assert runtime_settings.get("invoice_due_days_x") == 1
        db.session.rollback()
    with app.test_request_context():
        assert runtime_settings.get("invoice_due_days_x") is None
        assert runtime_settings.get("invoice_due_days") == 21


def test_values_handed_out_are_copies(app) -> None:
    runtime_settings.put("currencies", [{"code": "RUB"}])
    with app.test_request_context():
        runtime_settings.get("currencies").append({"code": "USD"})
        assert runtime_settings.get("currencies") == [{"code": "RUB"}]


def _count(web, url: str) -> int:  # type: ignore[no-untyped-def]
    web.get(url)  # warm: the first request of the process loads the settings
    with counted() as statements:
        assert web.get(url).status_code == 200
    return len(statements)


def test_dashboard_query_counts_are_pinned(client_web, staff_web) -> None:
    """One token check, one account load, then the page's own queries."""
    # the token check, the account, then the page; before issue #17 (same warm-up): client 6,
    # admin 20 (a read per setting, the plugin choices, the account loaded twice). The client
    # dashboard then grew its panels (issue #24): invoices to pay, services, open tickets,
    # credit, last month's documents: one query each, whatever the data
    # (tests/web/test_client_dashboard.py counts them at two sizes). A staff member's
    # departments are loaded joined with the account since (admin 16 -> 15).
    assert {"client": _count(client_web, "/"), "admin": _count(staff_web, "/admin/")} == {
        "client": 10,
        "admin": 15,
    }


def test_a_theme_static_file_runs_no_query_once_the_process_knows_the_theme(make_app) -> None:
    from tests.web.test_themes import THEME_PATHS

    themed = make_app(theme="testtheme", theme_paths=THEME_PATHS)
    with themed.app_context():
        web = themed.test_client()
        assert web.get("/login").status_code == 200  # any page: the settings are cached
        with counted() as statements:
            response = web.get("/theme/static/theme.css")
        assert response.status_code == 200
        response.close()
        assert statements == []


def test_an_anonymous_visitor_with_a_valid_session_gets_no_new_cookie(app, client_account) -> None:
    """The sign-in form's CSRF token is kept in the session: the first visit sets the cookie,
    later visits carrying it are answered without signing it again, and the form still posts."""
    web = app.test_client()
    first = web.get("/login")
    assert "portal_session=" in first.headers.get("Set-Cookie", "")
    for url in ("/login", "/admin/login", "/password/reset", "/login"):
        again = web.get(url)
        assert again.status_code == 200
        assert "Set-Cookie" not in again.headers, url
    signed_in = web.submit("/login", {"email": client_account.email, "password": "x" * 3})
    assert signed_in.status_code == 200  # a wrong password, but the CSRF token was accepted
    assert "Wrong e-mail or password." in signed_in.get_data(as_text=True)
