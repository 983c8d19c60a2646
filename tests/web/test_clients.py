"""The client card and list in the admin area: legal details, duplicates, close, delete, merge,
log in as client, custom fields, notes, to-dos."""

import csv
import html
import io
import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import hookimpl
from portal.accounts import clients
from portal.accounts.clients import ClientRecords
from portal.accounts.models import (
    AuditEntry,
    Client,
    ClientStatus,
    Contact,
    CustomField,
    CustomFieldValue,
    FieldType,
    Note,
    TodoItem,
)
from portal.accounts.requisites import LegalType
from portal.core.extensions import db
from portal.testing.factories import make_client

NEW = {
    "first_name": "Пётр",
    "last_name": "Сидоров",
    "company": "ПАО Сбербанк",
    "email": "Office@Sber.example",
    "phone": "+7 495 500-55-50",
    "country": "RU",
    "currency": "RUB",
    "language": "ru",
    "status": "active",
    "rating": "normal",
    "legal_type": "legal_entity",
    "inn": "7707083893",
    "kpp": "773601001",
    "bank_bic": "044525225",
    "bank_account": "40702810303800006047",
}


def _errors(page: str) -> list[str]:
    return [
        html.unescape(e) for e in re.findall(r'class="invalid-feedback d-block">([^<]+)<', page)
    ]


def test_staff_create_a_company_client(staff_web, app: Flask) -> None:
    response = staff_web.submit("/admin/clients/new", NEW)
    assert response.status_code == 302, _errors(response.get_data(as_text=True))
    client = db.session.scalar(select(Client).where(Client.email == "office@sber.example"))
    assert client.legal_type is LegalType.LEGAL_ENTITY and client.kpp == "773601001"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.create"))
    assert entry.client_id == client.id and entry.after["inn"] == "7707083893"
    summary = staff_web.get(response.location).get_data(as_text=True)
    assert "ПАО Сбербанк" in summary and "7707083893" in summary


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"inn": "7707083894"}, "The INN check digits are wrong"),
        ({"inn": "500100732259"}, "The INN of this legal type has 10 digits, not 12."),
        ({"kpp": "7736010"}, "The KPP has 9 characters, not 7."),
        ({"bank_account": "40702810403800006047"}, "does not match the bank's BIC"),
        ({"inn": ""}, "The INN is required for companies and sole proprietors."),
    ],
)
def test_wrong_legal_details_are_explained_and_nothing_is_lost(
    staff_web, change: dict, message: str
) -> None:
    page = staff_web.submit("/admin/clients/new", {**NEW, **change}).get_data(as_text=True)
    assert any(message in error for error in _errors(page)), _errors(page)
    assert 'value="ПАО Сбербанк"' in page  # the form keeps what was typed
    assert db.session.scalar(select(func.count(Client.id))) == 0


def test_legal_detail_errors_in_russian(staff_web, staff_member) -> None:
    staff_web.submit("/language", {"language": "ru", "next": "/admin/"}, form_page="/admin/")
    page = staff_web.submit("/admin/clients/new", {**NEW, "inn": "7707083894"})
    assert "Неверные контрольные цифры ИНН" in page.get_data(as_text=True)


def test_duplicate_warning_then_create_anyway(staff_web, clock) -> None:
    existing = make_client(clock, phone="+7 495 500-55-50")
    page = staff_web.submit("/admin/clients/new", {**NEW, "email": "other@sber.example"})
    text = page.get_data(as_text=True)
    assert 'id="duplicates"' in text and f"#{existing.id}" in text and "same phone" in text
    assert (
        db.session.scalar(select(func.count(Client.id)).where(Client.company == NEW["company"]))
        == 0
    )
    again = staff_web.submit(
        "/admin/clients/new", {**NEW, "email": "other@sber.example", "create_anyway": "y"}
    )
    assert again.status_code == 302


def test_email_is_unique_case_insensitively(staff_web, client_account) -> None:
    page = staff_web.submit(
        "/admin/clients/new",
        {**NEW, "email": client_account.email.upper(), "create_anyway": "y"},
    ).get_data(as_text=True)
    assert "Another client already uses this e-mail." in _errors(page)


def _profile(client: Client, **changes: object) -> dict:
    data = {
        key: getattr(client, key)
        for key in (
            "first_name",
            "last_name",
            "company",
            "email",
            "phone",
            "country",
            "currency",
            "inn",
            "kpp",
        )
    }
    data.update(
        language="en",
        status=client.status.value,
        rating=client.rating.value,
        legal_type=client.legal_type.value,
    )
    data.update(changes)
    return {k: ("" if v is None else v) for k, v in data.items()}


def test_profile_edit_is_audited_with_before_and_after(staff_web, client_account) -> None:
    url = f"/admin/clients/{client_account.id}/profile"
    response = staff_web.submit(url, _profile(client_account, phone="+7 900 000-00-00"))
    assert response.status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.update"))
    assert entry.before == {"phone": ""} or entry.before["phone"] == ""
    assert entry.after["phone"] == "+7 900 000-00-00"
    assert "language" in entry.after  # was None, now "en"
    log = staff_web.get(f"/admin/clients/{client_account.id}/log").get_data(as_text=True)
    assert "changed the client&#39;s details" in log and "+7 900 000-00-00" in log
    assert "client.update" not in log and "<b>Phone</b>" in log  # a sentence, field labels


class Records:
    """A plugin keeping rows per client: they are history for ``history``, and it records
    every move it is asked to make."""

    def __init__(self, history: Callable[[int], bool] = lambda client_id: False) -> None:
        self.history = history
        self.moved: list[tuple[int, int]] = []

    def move(self, source_id: int, target_id: int) -> None:
        self.moved.append((source_id, target_id))

    @hookimpl
    def register_client_records(self) -> list[ClientRecords]:
        return [ClientRecords("test", self.move, has_history=self.history)]


def test_legal_type_cannot_change_once_invoiced(staff_web, client_account, register_plugin) -> None:
    url = f"/admin/clients/{client_account.id}/profile"
    invoiced = {client_account.id}
    register_plugin(Records(history=lambda cid: cid in invoiced))
    change = _profile(client_account, legal_type="sole_proprietor", inn="500100732259")
    page = staff_web.submit(url, change).get_data(as_text=True)
    assert "Create a new client for the new legal entity." in page
    db.session.refresh(client_account)
    assert client_account.legal_type is LegalType.INDIVIDUAL
    invoiced.clear()
    assert staff_web.submit(url, change).status_code == 302


def test_close_keeps_history_and_blocks_sign_in(app: Flask, staff_web, client_account) -> None:
    visitor = app.test_client()
    visitor.sign_in_client(client_account.email)
    staff_web.submit(
        f"/admin/clients/{client_account.id}/close",
        {},
        form_page=f"/admin/clients/{client_account.id}",
    )
    db.session.refresh(client_account)
    assert client_account.status is ClientStatus.CLOSED and client_account.closed_at is not None
    assert visitor.get("/").status_code == 302
    again = app.test_client().submit(
        "/login", {"email": client_account.email, "password": "correct horse battery"}
    )
    assert again.status_code == 200


def test_delete_refused_with_financial_history(staff_web, client_account, register_plugin) -> None:
    register_plugin(Records(history=lambda cid: True))
    url = f"/admin/clients/{client_account.id}"
    page = staff_web.submit(f"{url}/delete", {}, form_page=url, follow_redirects=True)
    assert "cannot be deleted. Close it instead." in page.get_data(as_text=True)
    assert db.session.get(Client, client_account.id) is not None


def test_delete_without_history(staff_web, client_account) -> None:
    client_id = client_account.id
    url = f"/admin/clients/{client_id}"
    staff_web.submit(f"{url}/notes", {"body": "звонил"})
    assert staff_web.submit(f"{url}/delete", {}, form_page=url).status_code == 302
    db.session.expire_all()
    assert db.session.get(Client, client_id) is None
    assert db.session.scalar(select(func.count(Note.id))) == 0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.delete"))
    assert entry.entity_id == str(client_id) and entry.before["email"]


def test_merge_moves_everything_and_is_audited(
    staff_web, clock, staff_member, register_plugin
) -> None:
    target = make_client(clock, first_name="Главный")
    source = make_client(clock, first_name="Дубль", company="ООО Дубль")
    target_id, source_id = target.id, source.id
    field = CustomField(name="Код контрагента", type=FieldType.TEXT)
    db.session.add(field)
    db.session.flush()
    db.session.add_all(
        [
            Contact(
                client_id=source_id,
                first_name="Бухгалтер",
                email="buh@dubl.example",
                created_at=clock.now(),
            ),
            Note(client_id=source_id, body="старая заметка", created_at=clock.now()),
            TodoItem(title="перезвонить", client_id=source_id, created_at=clock.now()),
            CustomFieldValue(client_id=source_id, field_id=field.id, value="00-123"),
        ]
    )
    db.session.commit()
    records = register_plugin(Records())
    url = f"/admin/clients/{target_id}"
    response = staff_web.submit(
        f"{url}/merge", {"source_id": source_id, "confirm": "y"}, form_page=url
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Client, source_id) is None
    assert records.moved == [(source_id, target_id)]
    assert (
        db.session.scalar(select(Contact.client_id).where(Contact.email == "buh@dubl.example"))
        == target_id
    )
    assert db.session.scalar(select(TodoItem.client_id)) == target_id
    assert clients.custom_values(target_id) == {field.id: "00-123"}
    bodies = set(db.session.scalars(select(Note.body).where(Note.client_id == target_id)))
    assert "старая заметка" in bodies
    assert any(f"#{source_id}" in body and "ООО Дубль" in body for body in bodies)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.merge"))
    assert entry.before["merged_client_id"] == source_id and entry.after["client_id"] == target_id
    assert entry.actor_id == staff_member.id


def test_merge_into_itself_is_refused(staff_web, client_account) -> None:
    url = f"/admin/clients/{client_account.id}"
    page = staff_web.submit(
        f"{url}/merge",
        {"source_id": client_account.id, "confirm": "y"},
        form_page=url,
        follow_redirects=True,
    )
    assert "cannot be merged into itself" in page.get_data(as_text=True)


def test_login_as_client_is_audited_with_a_banner_back(staff_web, client_account) -> None:
    url = f"/admin/clients/{client_account.id}"
    response = staff_web.submit(f"{url}/login-as", {}, form_page=url)
    assert response.location == "/"
    page = staff_web.get("/").get_data(as_text=True)
    assert 'id="impersonation-banner"' in page and client_account.email in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.login_as"))
    assert entry.client_id == client_account.id
    back = staff_web.submit("/admin/clients/impersonation/end", {}, form_page="/")
    assert back.location == url
    assert staff_web.get("/").status_code == 302  # the client session ended
    assert staff_web.get(url).status_code == 200  # the staff one did not


def test_custom_fields_required_and_typed(staff_web, client_account) -> None:
    db.session.add_all(
        [
            CustomField(name="ИТС до", type=FieldType.DATE),
            CustomField(
                name="Офис", type=FieldType.DROPDOWN, options=["Москва", "Казань"], required=True
            ),
        ]
    )
    db.session.commit()
    fields = {f.name: f.id for f in db.session.scalars(select(CustomField))}
    url = f"/admin/clients/{client_account.id}/profile"
    base = _profile(client_account)
    page = staff_web.submit(url, {**base, f"custom_{fields['ИТС до']}": "31.12"}).get_data(
        as_text=True
    )
    assert "must be a date" in page or "Офис is required." in page
    ok = staff_web.submit(
        url,
        {**base, f"custom_{fields['ИТС до']}": "2027-01-31", f"custom_{fields['Офис']}": "Казань"},
    )
    assert ok.status_code == 302
    assert clients.custom_values(client_account.id) == {
        fields["ИТС до"]: "2027-01-31",
        fields["Офис"]: "Казань",
    }
    found = staff_web.get(f"/admin/clients?field={fields['Офис']}&value=каз").get_data(as_text=True)
    assert client_account.email in found


def test_important_notes_are_pinned_to_the_summary(staff_web, client_account, staff_member) -> None:
    url = f"/admin/clients/{client_account.id}"
    staff_web.submit(f"{url}/notes", {"body": "Старые реквизиты: ИНН 7707083893", "important": "y"})
    staff_web.submit(f"{url}/notes", {"body": "обычная заметка"})
    summary = staff_web.get(url).get_data(as_text=True)
    pinned = re.findall(
        r'class="alert alert-warning important-note">(.*?)</div>\s*</div>', summary, re.S
    )
    assert (
        len(pinned) == 1 and "Старые реквизиты" in pinned[0] and staff_member.full_name in pinned[0]
    )
    assert "обычная заметка" not in summary


def test_todo_due_is_counted_on_the_dashboard(staff_web, staff_member, clock) -> None:
    today = date(2026, 11, 2)
    staff_web.submit(
        "/admin/work/todos",
        {"title": "Выставить счёт", "due_date": today.isoformat(), "assignee_id": staff_member.id},
    )
    staff_web.submit(
        "/admin/work/todos",
        {
            "title": "Позже",
            "assignee_id": staff_member.id,
            "due_date": (today + timedelta(days=3)).isoformat(),
        },
    )
    dashboard = staff_web.get("/admin/").get_data(as_text=True)
    assert re.search(r'data-counter="todo_due">\s*<a href="/admin/work/todos">1</a>', dashboard)
    clock.advance(timedelta(days=3))
    dashboard = staff_web.get("/admin/").get_data(as_text=True)
    assert re.search(r'data-counter="todo_due">\s*<a href="/admin/work/todos">2</a>', dashboard)


def test_list_filters_sort_and_csv(staff_web, clock) -> None:
    a = make_client(clock, first_name="Анна", company="Альфа")
    b = make_client(clock, first_name="Борис", company="Бета")
    a.legal_type, a.inn = LegalType.LEGAL_ENTITY, "7707083893"
    b.status = ClientStatus.INACTIVE
    db.session.commit()
    by_inn = staff_web.get("/admin/clients?q=7707083893").get_data(as_text=True)
    assert "Альфа" in by_inn and "Бета" not in by_inn
    inactive = staff_web.get("/admin/clients?status=inactive").get_data(as_text=True)
    assert "Бета" in inactive and "Альфа" not in inactive
    companies = staff_web.get("/admin/clients?sort=company&dir=asc").get_data(as_text=True)
    assert companies.index("Альфа") < companies.index("Бета")
    export = staff_web.get("/admin/clients?legal_type=legal_entity&format=csv")
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig")), delimiter=";"))
    assert [row[2] for row in rows[1:]] == ["Альфа"] and rows[1][5] == "7707083893"


def test_huge_ids_are_404_not_500(staff_web, client_web) -> None:
    assert staff_web.get("/admin/clients/99999999999").status_code == 404
    assert staff_web.get("/admin/billing/invoices/99999999999").status_code == 404
    assert client_web.get("/invoices/99999999999").status_code == 404
    assert staff_web.get("/admin/clients?q=99999999999&group=99999999999").status_code == 200
