"""Under the Content-Security-Policy the pages still work in Chromium, the browser reports no
violation, and a page of another origin cannot frame the admin area. docs/security.md,
"Headers"."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal.testing.factories import PASSWORD

pytestmark = pytest.mark.e2e

PAGES = (
    "/admin/",
    "/admin/clients",
    "/admin/support",
    "/admin/billing/invoices",
    # the reports: inline SVG charts, the printable page and its Print button (portal.js)
    "/admin/reports/",
    "/admin/reports/income?group_by=day",
    "/admin/reports/vat?format=print",
)


@pytest.fixture
def framing_site(live_server: str) -> Iterator[str]:
    """Another origin (a sibling port) whose page frames the admin client list."""

    @Request.application
    def framing_page(_request: Request) -> Response:
        html = f'<!doctype html><iframe id="victim" src="{live_server}/admin/clients"></iframe>'
        return Response(html, mimetype="text/html")

    server = make_server("127.0.0.1", 0, framing_page, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _console_error(message) -> str:  # type: ignore[no-untyped-def]
    """A console error, except the favicon the browser asks for on its own (there is none)."""
    if message.type != "error" or "favicon" in (message.location or {}).get("url", ""):
        return ""
    return f"{message.text} at {message.location}"


def _sign_in(page, staff_member) -> None:  # type: ignore[no-untyped-def]
    page.goto("/admin/login")
    page.fill("input[name=email]", staff_member.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url("**/admin/")


def test_pages_work_under_the_policy(page, staff_member, client_account) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda message: errors.append(_console_error(message)))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    _sign_in(page, staff_member)
    for url in (*PAGES, f"/admin/clients/{client_account.id}"):
        page.goto(url)
        page.wait_for_load_state("load")
    # The live preview of a mail template is the shell's script (portal.js) posting the form.
    page.goto("/admin/settings/mail-templates/welcome/en")
    page.fill("textarea[name=body]", "Hello from the CSP test")
    expect(page.locator("#preview-body")).to_contain_text("Hello from the CSP test")
    # data-confirm: dismissing the question keeps the client open.
    page.goto(f"/admin/clients/{client_account.id}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("form[data-confirm] button.btn-outline-warning")
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/admin/clients/{client_account.id}")
    assert not [error for error in errors if error], errors


def test_another_origin_cannot_frame_the_admin_area(page, staff_member, framing_site) -> None:  # type: ignore[no-untyped-def]
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    _sign_in(page, staff_member)
    page.goto(framing_site)
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    victim = page.frame_locator("#victim")
    assert victim.locator("#client-list").count() == 0
    assert any("frame" in text.lower() for text in messages), messages
