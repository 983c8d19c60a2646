"""The client edits their own profile, e-mail (confirmed by link), password and contacts."""

import re

from flask import Flask
from sqlalchemy import select

from portal.accounts.models import AuditEntry, Contact
from portal.core.extensions import db
from portal.platform import runtime_settings
from portal.testing.factories import PASSWORD, make_client

PROFILE = {
    "first_name": "Иван",
    "last_name": "Петров",
    "company": "ООО «Ромашка»",
    "phone": "+7 912 000-00-00",
    "city": "Казань",
}


def test_client_edits_allowed_fields_only(client_web, client_account) -> None:
    response = client_web.submit("/profile", {**PROFILE, "inn": "7707083893", "email": "x@y.z"})
    assert response.status_code == 302
    db.session.refresh(client_account)
    assert client_account.city == "Казань" and client_account.phone == "+7 912 000-00-00"
    assert client_account.inn == "" and client_account.email != "x@y.z"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.update"))
    assert entry.actor_type == "client" and entry.after["city"] == "Казань"


def test_staff_choose_what_clients_may_edit(client_web, client_account) -> None:
    runtime_settings.put("client_editable_fields", ["phone"])
    page = client_web.get("/profile").get_data(as_text=True)
    assert 'name="phone"' in page and 'name="company"' not in page
    client_web.submit("/profile", {"phone": "+7 1", "company": "Взлом"})
    db.session.refresh(client_account)
    assert client_account.phone == "+7 1" and client_account.company == "ООО «Ромашка»"


def test_email_change_takes_effect_only_through_the_link(
    client_web, client_account, mailbox
) -> None:
    old = client_account.email
    client_web.submit("/profile/email", {"email": "New.Address@Example.com"}, form_page="/profile")
    db.session.refresh(client_account)
    assert client_account.email == old and client_account.pending_email == "new.address@example.com"
    assert [m["To"] for m in mailbox] == ["new.address@example.com"]
    link = re.search(r"http://localhost(/profile/email/\S+)", mailbox[0].get_content()).group(1)
    page = client_web.get(link, follow_redirects=True).get_data(as_text=True)
    assert "new.address@example.com" in page
    db.session.refresh(client_account)
    assert client_account.email == "new.address@example.com" and client_account.pending_email == ""
    again = client_web.get(link, follow_redirects=True).get_data(as_text=True)
    assert "invalid or has expired" in again


def test_email_link_of_another_client_does_nothing(app: Flask, client_web, clock, mailbox) -> None:
    other = make_client(clock)
    other_web = app.test_client()
    other_web.sign_in_client(other.email)
    other_web.submit("/profile/email", {"email": "stolen@example.com"}, form_page="/profile")
    link = re.search(r"http://localhost(/profile/email/\S+)", mailbox[0].get_content()).group(1)
    page = client_web.get(link, follow_redirects=True).get_data(as_text=True)
    assert "invalid or has expired" in page


def test_email_already_used_is_refused(client_web, clock) -> None:
    other = make_client(clock)
    page = client_web.submit(
        "/profile/email",
        {"email": other.email.upper()},
        form_page="/profile",
        follow_redirects=True,
    )
    assert "Another account already uses this e-mail." in page.get_data(as_text=True)


def test_password_change(app: Flask, client_web, client_account) -> None:
    elsewhere = app.test_client()
    elsewhere.sign_in_client(client_account.email)
    wrong = client_web.submit(
        "/profile/password",
        {
            "current_password": "nope",
            "password": "a new long password",
            "confirm": "a new long password",
        },
        form_page="/profile",
        follow_redirects=True,
    )
    assert "The current password is wrong." in wrong.get_data(as_text=True)
    client_web.submit(
        "/profile/password",
        {
            "current_password": PASSWORD,
            "password": "a new long password",
            "confirm": "a new long password",
        },
        form_page="/profile",
    )
    assert client_web.get("/profile").status_code == 200  # still signed in here
    assert elsewhere.get("/profile").status_code == 302  # signed out elsewhere
    app.test_client().sign_in_client(client_account.email, "a new long password")


def test_contacts_are_scoped_to_the_client(app: Flask, client_web, client_account, clock) -> None:
    client_web.submit(
        "/contacts",
        {
            "first_name": "Ольга",
            "email": "buh@romashka.example",
            "roles": ["billing"],
            "receives": ["invoices"],
        },
    )
    contact = db.session.scalar(select(Contact))
    assert contact.client_id == client_account.id and contact.roles == ["billing"]
    db.session.refresh(client_account)
    assert client_account.billing_contact_id == contact.id

    other = make_client(clock)
    intruder = app.test_client()
    intruder.sign_in_client(other.email)
    assert intruder.get(f"/contacts/{contact.id}").status_code == 404
    response = intruder.submit(f"/contacts/{contact.id}/delete", {}, form_page="/contacts")
    assert response.status_code == 404
    assert "Ольга" not in intruder.get("/contacts").get_data(as_text=True)
    assert db.session.get(Contact, contact.id) is not None


def test_staff_set_the_editable_fields_in_settings(staff_web) -> None:
    url = "/admin/settings/clients/client-area"
    assert staff_web.submit(url, {"editable": ["phone", "city"]}).status_code == 302
    assert runtime_settings.get("client_editable_fields") == ["phone", "city"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "setting.update"))
    assert entry.after == {"client_editable_fields": ["phone", "city"]}
    assert (
        "not a valid choice"
        in staff_web.submit(url, {"editable": ["inn"]}).get_data(as_text=True).lower()
    )
