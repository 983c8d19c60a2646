"""Client-area themes: override by file name, fall back to default, switch at run time."""

import os
from pathlib import Path

from flask import Flask

from portal.core.settings import PROJECT_ROOT

TEST_THEMES = str(Path(__file__).resolve().parent.parent / "themes")
THEME_PATHS = [TEST_THEMES, str(PROJECT_ROOT / "themes")]


def test_theme_overrides_a_template_and_falls_back_for_the_rest(make_app) -> None:
    themed: Flask = make_app(theme="testtheme", theme_paths=THEME_PATHS)
    with themed.app_context():
        web = themed.test_client()
        login = web.get("/login").get_data(as_text=True)
        assert "Test theme sign-in" in login
        register = web.get("/register").get_data(as_text=True)
        assert "Create an account" in register  # not in the test theme: default theme's page
        css = web.get("/theme/static/theme.css")
        assert b"#123456" in css.data


def test_extra_theme_folders_keep_the_built_in_default_theme(make_app) -> None:
    themed: Flask = make_app(theme="testtheme", theme_paths=[TEST_THEMES])
    with themed.app_context():
        web = themed.test_client()
        assert "Test theme sign-in" in web.get("/login").get_data(as_text=True)
        register = web.get("/register")
        assert register.status_code == 200  # found in the built-in default theme
        assert "Create an account" in register.get_data(as_text=True)


def test_default_theme_when_none_is_chosen(web) -> None:
    page = web.get("/login").get_data(as_text=True)
    assert "Sign in to the client area" in page
    assert b".client-panel" in web.get("/theme/static/theme.css").data
    assert web.get("/theme/static/missing.css").status_code == 404
    assert web.get("/theme/static/../../setup.cfg").status_code == 404


def test_staff_switch_the_theme_in_settings(make_app, staff_member) -> None:
    themed: Flask = make_app(theme_paths=THEME_PATHS)
    with themed.app_context():
        visitor = themed.test_client()
        assert "Sign in to the client area" in visitor.get("/login").get_data(as_text=True)
        staff = themed.test_client()
        staff.sign_in_staff(staff_member.email)
        page = staff.get("/admin/settings/appearance").get_data(as_text=True)
        assert "testtheme" in page
        response = staff.submit("/admin/settings/appearance", {"theme": "testtheme"})
        assert response.status_code == 302
        assert "Test theme sign-in" in visitor.get("/login").get_data(as_text=True)
        refused = staff.submit("/admin/settings/appearance", {"theme": "../../etc"})
        assert "Not a valid choice" in refused.get_data(as_text=True)


def _theme_copy(tmp_path: Path) -> Path:
    """A theme of its own whose sign-in page a test may edit."""
    theme = tmp_path / "themes" / "edited" / "templates" / "client"
    theme.mkdir(parents=True)
    (theme / "login.html").write_text(
        '{% extends "client/base.html" %}{% block content %}first{% endblock %}'
    )
    return theme / "login.html"


def test_an_edited_template_is_read_again_only_when_reloading_is_asked(make_app, tmp_path) -> None:
    """Production reads a template file once per process (no stat per template and request);
    debug mode or ``TEMPLATES_AUTO_RELOAD`` picks up an edit, as in Flask."""
    login = _theme_copy(tmp_path)
    paths = [str(tmp_path / "themes"), str(PROJECT_ROOT / "themes")]
    production = make_app(theme="edited", theme_paths=paths)
    reloading = make_app(theme="edited", theme_paths=paths)
    reloading.config["TEMPLATES_AUTO_RELOAD"] = True
    for app in (production, reloading):
        with app.app_context():
            assert "first" in app.test_client().get("/login").get_data(as_text=True)
    login.write_text('{% extends "client/base.html" %}{% block content %}second{% endblock %}')
    stat = login.stat()
    os.utime(login, (stat.st_atime, stat.st_mtime + 5))  # a later mtime, however coarse the clock
    with production.app_context():
        assert "first" in production.test_client().get("/login").get_data(as_text=True)
    with reloading.app_context():
        assert "second" in reloading.test_client().get("/login").get_data(as_text=True)
