"""A real browser (Debian's Chromium via Playwright) signs in to both areas, switches language."""

import pytest

from portal.testing.factories import PASSWORD

pytestmark = pytest.mark.e2e


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
