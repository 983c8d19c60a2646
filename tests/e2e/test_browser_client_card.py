"""Staff open a client card in a real browser, log in as the client and come back."""

import pytest

from portal.testing.factories import PASSWORD

pytestmark = pytest.mark.e2e


def test_log_in_as_client_and_back(page, staff_member, client_account) -> None:
    page.goto("/admin/login")
    page.fill("input[name=email]", staff_member.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url("**/admin/")
    page.goto(f"/admin/clients?q={client_account.email}")
    page.click(f"#client-list a[href='/admin/clients/{client_account.id}']")
    assert "ООО «Ромашка»" in page.locator("h1").inner_text()
    page.click("#login-as")
    page.wait_for_url("**/")
    assert page.locator("#impersonation-banner").is_visible()
    page.click("#impersonation-banner button")
    page.wait_for_url(f"**/admin/clients/{client_account.id}")
    assert page.locator("#client-tabs").is_visible()
    page.goto("/")
    assert "/login" in page.url  # the client session ended with the banner's button
