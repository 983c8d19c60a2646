"""Plugins → Installed plugins: enable and disable without a restart (hooks follow at the next
request, in every process), "restart needed" for plugins with pages, failures shown, the staff's
choice winning over the settings file; permission, CSRF and audit."""

import re
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from portal.accounts.models import AuditEntry
from portal.core.extensions import db
from portal.platform.models import Setting
from portal.testing.factories import make_staff

PLUGINS = {
    "menuplug": """
        from portal import hookimpl
        from portal.web.menu import MenuItem

        @hookimpl
        def register_admin_menu_items():
            return [MenuItem("utilities", "Menu plug tools", "admin.dashboard")]
        """,
    "pageplug": """
        from flask import Blueprint
        from portal import hookimpl

        bp = Blueprint("pageplug", __name__, url_prefix="/admin/pageplug")
        bp.portal_area = "admin"

        @bp.route("/")
        def index():
            return "page plug"

        @hookimpl
        def register_blueprints():
            return [bp]
        """,
    "crashplug": "raise ImportError('libpbx.so not found')\n",
}


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    for name, source in PLUGINS.items():
        (site / f"{name}.py").write_text(textwrap.dedent(source))
        info = site / f"{name}-2.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 2.0.1\n")
        (info / "entry_points.txt").write_text(f"[portal.plugins]\n{name} = {name}\n")
    monkeypatch.syspath_prepend(str(site))
    return site


@contextmanager
def signed_in(make_app, staff, **settings) -> Iterator:
    """A new app (a process, as far as plugins go) and a web client of ``staff`` signed in."""
    app: Flask = make_app(**settings)
    with app.app_context():
        web = app.test_client()
        web.sign_in_staff(staff.email)
        yield app, web


def _switch(web, name: str, action: str):
    return web.submit(f"/admin/plugins/{name}/{action}", {}, form_page="/admin/plugins")


def _row(page: str, name: str) -> str:
    match = re.search(rf'<tr data-plugin="{name}".*?</tr>', page, re.S)
    assert match, name
    return match.group(0)


def test_enable_and_disable_take_effect_at_the_next_request(
    installed, make_app, staff_member
) -> None:
    with signed_in(make_app, staff_member) as (app, web):
        assert "Menu plug tools" not in web.get("/admin/").get_data(as_text=True)

        response = _switch(web, "menuplug", "enable")

        assert response.status_code == 302
        page = web.get("/admin/plugins").get_data(as_text=True)
        assert "menuplug is enabled." in page
        assert "enabled" in _row(page, "menuplug") and "staff" in _row(page, "menuplug")
        assert "Menu plug tools" in web.get("/admin/").get_data(as_text=True)
        assert db.session.get(Setting, "plugins_enabled").value == {"menuplug": True}
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (entry.action, entry.entity_id) == ("setting.update", "plugins_enabled")
        assert entry.actor_id == staff_member.id
        listed = app.test_cli_runner().invoke(args=["plugins", "list"]).output
        assert re.search(r"menuplug\s+enabled\s+2\.0\.1", listed)

        _switch(web, "menuplug", "disable")
        assert "Menu plug tools" not in web.get("/admin/").get_data(as_text=True)


def test_a_change_reaches_another_process_and_staff_win_over_the_settings_file(
    installed, make_app, staff_member
) -> None:
    other: Flask = make_app(plugins=["menuplug"])  # started before the change
    with signed_in(make_app, staff_member, plugins=["menuplug"]) as (_app, web):
        page = web.get("/admin/plugins").get_data(as_text=True)
        assert "settings file" in _row(page, "menuplug")
        _switch(web, "menuplug", "disable")
        assert "Menu plug tools" not in web.get("/admin/").get_data(as_text=True)
    with other.app_context():
        assert other.extensions["portal.plugins"].infos["menuplug"].state == "enabled"
        web = other.test_client()
        web.sign_in_staff(staff_member.email)
        assert "Menu plug tools" not in web.get("/admin/").get_data(as_text=True)
        row = _row(web.get("/admin/plugins").get_data(as_text=True), "menuplug")
        assert "disabled" in row and "staff" in row


def test_a_plugin_with_pages_needs_a_restart(installed, make_app, staff_member) -> None:
    with signed_in(make_app, staff_member) as (_app, web):
        web.get("/admin/")  # the app has served requests: blueprints can no longer be added
        _switch(web, "pageplug", "enable")
        page = web.get("/admin/plugins").get_data(as_text=True)
        assert "Restart the portal to add or remove the pages of pageplug." in page
        assert "restart needed" in _row(page, "pageplug")
        assert web.get("/admin/pageplug/").status_code == 404
    with signed_in(make_app, staff_member) as (_app, web):  # a new process reads the choice
        assert web.get("/admin/pageplug/").get_data(as_text=True) == "page plug"
        assert "restart needed" not in _row(
            web.get("/admin/plugins").get_data(as_text=True), "pageplug"
        )


def test_a_plugin_that_fails_to_load_is_reported_not_fatal(
    installed, make_app, staff_member
) -> None:
    with signed_in(make_app, staff_member) as (_app, web):
        response = _switch(web, "crashplug", "enable")
        page = web.get(response.headers["Location"]).get_data(as_text=True)
        assert "crashplug could not be loaded: ImportError: libpbx.so not found" in page
        assert "failed" in _row(page, "crashplug")
        assert web.get("/admin/").status_code == 200


def test_only_staff_who_manage_plugins_may_switch_them(
    installed, make_app, staff_member, clock
) -> None:
    app: Flask = make_app()
    with app.app_context():
        support = make_staff(clock, role="support", email="support@example.com")
        web = app.test_client()
        web.sign_in_staff(support.email)
        assert web.get("/admin/plugins").status_code == 403
        token_page = web.get("/admin/")  # any page carries a CSRF token
        from portal.testing.web import csrf_token_from

        token = csrf_token_from(token_page.get_data(as_text=True))
        forbidden = web.post("/admin/plugins/menuplug/enable", data={"csrf_token": token})
        assert forbidden.status_code == 403
        admin = app.test_client()
        admin.sign_in_staff(staff_member.email)
        assert admin.post("/admin/plugins/menuplug/enable").status_code == 400  # no CSRF token
        assert db.session.get(Setting, "plugins_enabled") is None
