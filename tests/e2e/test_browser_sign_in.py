"""A real browser (Debian's Chromium via Playwright) signs in to both areas, switches language."""

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from portal.testing.factories import PASSWORD
from portal.testing.plugin import CHROMIUM

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def page(live_server: str):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server, locale="en-US")
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def test_client_signs_in_and_switches_to_russian(page, client_account) -> None:
    page.goto("/")
    assert page.url.endswith("/login?next=/")
    page.fill("input[name=email]", client_account.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url("**/")
    assert client_account.email in page.content()
    page.click("#language-switcher button[value=ru]")
    page.wait_for_load_state()
    assert page.locator("text=Выйти").count() == 1


def test_staff_sign_in_and_wrong_password(page, staff_member) -> None:
    page.goto("/admin/login")
    page.fill("input[name=email]", staff_member.email)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit].btn-primary")
    assert page.locator(".alert-danger").inner_text() == "Wrong e-mail or password."
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url("**/admin/")
    assert page.locator("#dashboard-counters").is_visible()
    assert page.locator("#admin-menu").inner_text().count("\n") >= 7
