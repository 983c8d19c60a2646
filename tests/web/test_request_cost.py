"""What every request costs (issue #17): static files run no query, runtime settings are read
from the process cache once a per-request token check says it is current, and the signed-in
account is loaded once."""

from __future__ import annotations

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


def test_a_change_made_by_another_worker_is_seen_on_the_next_request(
    app, make_app, staff_web
) -> None:
    other = make_app()  # another worker: its own process cache, the same database
    with other.app_context():
        other_web = other.test_client()
        assert b"24:00" not in other_web.get("/login").data
        runtime_settings.put("invoice_due_days", 11)
    with other.test_request_context():
        assert runtime_settings.get("invoice_due_days") == 11

    # this process cached the settings before the change; the token check sees it
    with app.test_request_context():
        assert runtime_settings.get("invoice_due_days") == 11

    # a bump written by hand, as a worker running other code would
    runtime_settings.put("invoice_due_days", 12)
    with app.test_request_context():
        assert runtime_settings.get("invoice_due_days") == 12
    with other.app_context():
        db.session.execute(
            db.update(runtime_settings.Setting)
            .where(runtime_settings.Setting.key == "invoice_due_days")
            .values(value=13)
        )
        db.session.execute(db.update(SettingsVersion).values(token="bumped-by-hand"))
        db.session.commit()
    with app.test_request_context():
        assert runtime_settings.get("invoice_due_days") == 13


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
