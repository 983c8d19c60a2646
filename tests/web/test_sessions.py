"""Sessions end on the server: a copy of a session cookie taken before signing out, a password
change or blocking stops working (docs/security.md, "Sessions")."""

from flask import Flask

from portal.accounts import staff as staff_service
from portal.core.extensions import db
from portal.testing.factories import PASSWORD, make_staff
from portal.testing.web import WebClient

COOKIE = "portal_session"


def copy_of(app: Flask, web: WebClient) -> WebClient:
    """Another browser holding a copy of ``web``'s session cookie (a stolen cookie)."""
    other = app.test_client()
    other.set_cookie(COOKIE, web.get_cookie(COOKIE).value)
    return other  # type: ignore[return-value]


def test_client_copied_cookie_is_refused_after_sign_out(app: Flask, client_web: WebClient) -> None:
    stolen = copy_of(app, client_web)
    assert stolen.get("/invoices").status_code == 200
    client_web.submit("/logout", {}, form_page="/")
    response = stolen.get("/invoices")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_staff_copied_cookie_is_refused_after_sign_out(app: Flask, staff_web: WebClient) -> None:
    stolen = copy_of(app, staff_web)
    assert stolen.get("/admin/clients").status_code == 200
    staff_web.submit("/admin/logout", {}, form_page="/admin/")
    response = stolen.get("/admin/clients")
    assert response.status_code == 302 and response.location.startswith("/admin/login")


def test_sign_out_ends_the_other_devices_too(app: Flask, client_account) -> None:
    laptop, phone = app.test_client(), app.test_client()
    laptop.sign_in_client(client_account.email)
    phone.sign_in_client(client_account.email)
    laptop.submit("/logout", {}, form_page="/")
    assert phone.get("/").status_code == 302
    phone.sign_in_client(client_account.email)  # signing in again works
    assert phone.get("/").status_code == 200


def test_copied_cookie_is_refused_after_a_password_change(
    app: Flask, client_web: WebClient
) -> None:
    stolen = copy_of(app, client_web)
    new = "a brand new password"
    changed = client_web.submit(
        "/profile/password",
        {"current_password": PASSWORD, "password": new, "confirm": new},
        form_page="/profile",
    )
    assert changed.status_code == 302
    assert client_web.get("/invoices").status_code == 200  # the one who changed it stays
    assert stolen.get("/invoices").status_code == 302


def test_copied_cookie_is_refused_after_blocking_even_once_unblocked(
    app: Flask, staff_member, clock
) -> None:
    admin = make_staff(clock, role="administrator")
    web = app.test_client()
    web.sign_in_staff(staff_member.email)
    stolen = copy_of(app, web)

    def set_active(active: bool) -> None:
        staff_service.update_staff_member(
            admin,
            staff_member,
            email=staff_member.email,
            first_name=staff_member.first_name,
            last_name=staff_member.last_name,
            role=staff_member.role,
            department_ids=[],
            language=None,
            is_active=active,
        )

    set_active(False)
    assert stolen.get("/admin/clients").status_code == 302
    set_active(True)
    db.session.expire_all()
    assert stolen.get("/admin/clients").status_code == 302
    assert web.get("/admin/clients").status_code == 302


def test_staff_signed_in_as_a_client_signing_out_leaves_the_client_signed_in(
    app: Flask, staff_web: WebClient, client_web: WebClient, client_account
) -> None:
    card = f"/admin/clients/{client_account.id}"
    assert staff_web.submit(f"{card}/login-as", {}, form_page=card).status_code == 302
    staff_web.submit("/logout", {}, form_page="/")
    assert staff_web.get("/").status_code == 302
    assert client_web.get("/invoices").status_code == 200  # the client's own session goes on
