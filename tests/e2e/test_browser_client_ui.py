"""The client dashboard, the canned replies and the navbars in a real Chromium, in Russian, on a
1366 px screen. Screenshots go to test-output/e2e/<test>/ for review (docs/development.md)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from portal.core.extensions import db
from portal.support import tickets
from portal.support.models.support import CannedReply
from portal.testing.factories import PASSWORD
from tests.fixtures.dashboard import fill
from tests.fixtures.mail.desk import make_desk

pytestmark = pytest.mark.e2e

SIGN_IN = "form:has(input[name=password]) button[type=submit]"


def _sign_in_client(page: Page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click(SIGN_IN)
    page.wait_for_url("**/")


def _sign_in_staff(page: Page, email: str) -> None:
    page.goto("/admin/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click(SIGN_IN)
    page.wait_for_url("**/admin/")


def test_the_dashboard_in_russian(russian_page, client_account, clock, screenshots) -> None:
    fill(client_account, clock, 0, 4)
    _sign_in_client(russian_page, client_account.email)
    russian_page.screenshot(path=screenshots / "dashboard.png", full_page=True)
    services = russian_page.locator("#dashboard-services").inner_text()
    assert "Облачный сервер №0" in services and "1\xa0234,50\xa0₽" in services
    unpaid = russian_page.locator("#unpaid-invoices")
    assert "Счёт 2026-Н00000" in unpaid.inner_text() and "просрочен с" in unpaid.inner_text()
    assert unpaid.locator(".pay-invoice").count() == 4
    assert "Поддержка ответила" in russian_page.locator("#dashboard-tickets").inner_text()
    assert "42,00\xa0$" in russian_page.locator("#dashboard-credit-card").inner_text()
    assert "Акт № 2026-П00000" in russian_page.locator("#dashboard-documents").inner_text()
    for empty in ("#nothing-to-pay", "#no-services", "#no-tickets", "#no-documents"):
        assert russian_page.locator(empty).count() == 0
    russian_page.click("#pay-all-due")
    russian_page.wait_for_url("**/invoices")


def _boxes(page: Page, selector: str) -> list[dict[str, float]]:
    return page.eval_on_selector_all(
        selector,
        """els => els.filter(e => e.offsetParent !== null).map(e => {
             const r = e.getBoundingClientRect();
             return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                     text: e.innerText.trim()};
           })""",
    )


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"] - 0.5
        and b["left"] < a["right"] - 0.5
        and a["top"] < b["bottom"] - 0.5
        and b["top"] < a["bottom"] - 0.5
    )


def _check_navbar(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no horizontal scroll
    # the navbar's pieces: brand, each menu item, each control on the right
    items = _boxes(
        page,
        "nav.navbar .navbar-brand, nav.navbar .navbar-nav > .nav-item, nav.navbar .navbar-end > *",
    )
    assert len(items) >= 8
    for item in items:
        assert item["left"] >= 0 and item["right"] <= width, item
    for n, a in enumerate(items):
        for b in items[n + 1 :]:
            assert not _overlap(a, b), (a, b)


def test_the_navbars_fit_1366_px_in_russian(
    russian_page, client_account, staff_member, screenshots
) -> None:
    _sign_in_client(russian_page, client_account.email)
    _check_navbar(russian_page, 1366)
    russian_page.screenshot(path=screenshots / "client-navbar.png")
    _sign_in_staff(russian_page, staff_member.email)
    assert "Клиенты" in russian_page.locator("#admin-menu").inner_text()
    _check_navbar(russian_page, 1366)
    russian_page.screenshot(path=screenshots / "admin-navbar.png")


def test_a_canned_reply_goes_in_at_the_cursor_without_a_reload(
    russian_page, app, clock, staff_member, screenshots
) -> None:
    desk = make_desk(clock)
    ticket = tickets.open_ticket(
        subject="Не запускается 1С",
        body="Ошибка лицензирования",
        client=desk.client,
        department_id=desk.support.id,
    )
    db.session.add(
        CannedReply(
            title="Ключ защиты",
            body="Переустановите ключ, {client_first_name}.",
            created_at=clock.now(),
        )
    )
    db.session.commit()
    _sign_in_staff(russian_page, staff_member.email)
    russian_page.goto(f"/admin/support/{ticket.id}")
    box = russian_page.locator("#reply-form textarea[name=body]")
    box.fill("Добрый день! \n\nС уважением, поддержка")
    russian_page.evaluate("window.notReloaded = true")
    box.evaluate("el => el.setSelectionRange(13, 13)")  # after "Добрый день! "
    russian_page.click("#canned-replies a:has-text('Ключ защиты')")
    assert box.input_value() == (
        "Добрый день! Переустановите ключ, Иван.\n\nС уважением, поддержка"
    )
    assert russian_page.evaluate("window.notReloaded") is True  # the same page, no reload
    assert "canned=" not in russian_page.url
    russian_page.screenshot(path=screenshots / "canned-reply.png", full_page=True)
