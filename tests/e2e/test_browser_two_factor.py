"""A real browser: a client turns on two-factor sign-in from the QR code page, keeps the
recovery codes, signs out and back in with one of them."""

import pyotp
import pytest

from portal.testing.factories import PASSWORD

pytestmark = pytest.mark.e2e


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].btn-primary")


def test_client_turns_on_two_factor_and_signs_in_with_a_recovery_code(
    page, client_account, clock
) -> None:
    sign_in(page, client_account.email)
    page.wait_for_url("**/")
    page.goto("/profile")
    page.click("text=Manage two-factor sign-in")
    page.click("text=Set up two-factor sign-in")
    qr = page.locator("#totp-qr svg")
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 100 and box["height"] >= 100  # drawn, scannable
    secret = page.locator("#totp-secret").inner_text()
    page.fill("input[name=code]", pyotp.TOTP(secret).at(clock.now()))
    page.click("button:has-text('Turn on')")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click("text=I have saved the codes")
    assert "Recovery codes left: 10." in page.locator("#recovery-codes-left").inner_text()

    page.click("nav button:has-text('Sign out')")
    sign_in(page, client_account.email)
    page.wait_for_url("**/login/code")
    page.fill("input[name=code]", codes[0])
    page.click("button[type=submit].btn-primary")
    page.wait_for_url("**/")
    assert "Recovery codes left: 9." in page.locator(".alert-warning").inner_text()
