"""Audit entries read as sentences in the reader's language: the main keys in Russian and
English, field labels and enum values by label, the actor by name, unknown keys readable."""

from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.accounts import audit, audit_sentences
from portal.accounts.models import ActorType, AuditEntry
from portal.core.extensions import db
from portal.testing.factories import make_client, make_department, make_staff


def entry(action: str, entity: str, entity_id: Any = 5, **values: Any) -> AuditEntry:
    values.setdefault("actor_type", ActorType.STAFF)
    values.setdefault("actor_name", "Анна Администратор")
    return AuditEntry(action=action, entity=entity, entity_id=str(entity_id), **values)


def read(item: AuditEntry, locale: str) -> str:
    with force_locale(locale):
        return audit_sentences.sentence(item)


def test_assignment_reads_with_the_staff_members_name(app: Flask, clock) -> None:
    ivan = make_staff(clock, first_name="Иван", last_name="Петров")
    item = entry(
        "ticket.update",
        "ticket",
        before={"assigned_staff_id": None},
        after={"assigned_staff_id": ivan.id},
    )
    assert read(item, "en") == "Анна Администратор assigned the ticket to Иван Петров"
    assert read(item, "ru") == "Анна Администратор: тикет назначен, исполнитель — Иван Петров"
    with force_locale("ru"):
        assert audit_sentences.changes(item) == [
            ("assigned_staff_id", "Назначен", "никто", "Иван Петров")
        ]


def one_change(entity: str, name: str, old: Any, new: Any) -> tuple[str, str, str, str]:
    item = entry(f"{entity}.update", entity, before={name: old}, after={name: new})
    with force_locale("ru"):
        ((change),) = audit_sentences.changes(item)
    return change


def test_status_change_reads_enum_labels_not_values(app: Flask) -> None:
    item = entry(
        "ticket.update", "ticket", before={"status": "customer_reply"}, after={"status": "answered"}
    )
    assert "Ответ клиента → Отвечен" in read(item, "ru")
    assert read(item, "en").endswith("Customer reply → Answered")
    assert one_change("ticket", "status", "customer_reply", "answered") == (
        "status",
        "Статус",
        "Ответ клиента",
        "Отвечен",
    )


@pytest.mark.parametrize(
    ("action", "entity", "after", "en", "ru"),
    [
        (
            "ticket.create",
            "ticket",
            {"reference": "#K7QM4ZP2"},
            "Анна Администратор opened the ticket #K7QM4ZP2",
            "Анна Администратор: открыт тикет #K7QM4ZP2",
        ),
        (
            "ticket.merge",
            "ticket",
            {"merged": ["#A1", "#B2"]},
            "Анна Администратор merged the tickets #A1, #B2 into this one",
            "Анна Администратор: к тикету присоединены тикеты #A1, #B2",
        ),
        (
            "client.update",
            "client",
            {"inn": "7736207543"},
            "Анна Администратор changed the client's details",
            "Анна Администратор: изменены данные клиента",
        ),
        (
            "invoice.issue",
            "invoice",
            {"number": "2026-000123"},
            "Анна Администратор issued the invoice 2026-000123",
            "Анна Администратор: выставлен счёт 2026-000123",
        ),
        (
            "payment.create",
            "payment",
            {"amount": "500.0000", "method": "bank"},
            "Анна Администратор recorded a payment of 500.00",
            "Анна Администратор: зарегистрирован платёж на 500,00",
        ),
    ],
)
def test_main_keys_read_as_sentences(app: Flask, action, entity, after, en, ru) -> None:
    item = entry(action, entity, after=after)
    assert read(item, "en") == en
    assert read(item, "ru") == ru


def test_field_labels_come_from_the_form(app: Flask) -> None:
    assert one_change("client", "legal_type", "individual", "legal_entity")[1:] == (
        "Правовая форма",
        "Физическое лицо",
        "Юридическое лицо",
    )


def test_unknown_key_reads_as_a_generic_sentence_never_the_key(app: Flask) -> None:
    item = entry("gizmo.frobnicate", "gizmo", 7)
    assert read(item, "en") == "Анна Администратор: an action on gizmo #7"
    item = entry("service.extend", "service", 7)
    assert "service.extend" not in read(item, "ru")
    assert read(item, "ru") == "Анна Администратор: действие — услуга #7"
    assert read(entry("contract.update", "contract", 3), "ru") == (
        "Анна Администратор: изменение — contract #3"
    )


def test_actor_is_a_name_or_a_deleted_staff_member(app: Flask, clock) -> None:
    member = make_staff(clock, first_name="Олег", last_name="Кузнецов")
    named = entry("ticket.close", "ticket", actor_name="", actor_id=member.id)
    gone = entry("ticket.close", "ticket", actor_name="", actor_id=member.id + 1000)
    system = entry(
        "invoice.issue",
        "invoice",
        actor_type=ActorType.SYSTEM,
        actor_name="billing run #4",
        after={"number": "7"},
    )
    assert read(named, "ru") == "Олег Кузнецов: тикет закрыт"
    assert read(gone, "ru") == "удалённый сотрудник: тикет закрыт"
    assert read(system, "ru") == "Выставление счетов #4: выставлен счёт 7"
    assert "staff #" not in read(gone, "en")


def test_a_plugin_registers_its_sentence_through_the_plugin_api(app: Flask) -> None:
    from portal.plugin_api import register_audit_field, register_audit_sentence

    register_audit_sentence("quota.resize", _l("%(actor)s changed the quota to %(size)s"))
    register_audit_field("size", _l("Price"), {"big": _l("Monthly")}, entity="quota")
    item = entry("quota.resize", "quota", after={"size": "big"})
    assert read(item, "en") == "Анна Администратор changed the quota to Monthly"
    # the plugin's msgid is not in the core catalogue; the value's label is
    assert read(item, "ru") == "Анна Администратор changed the quota to Ежемесячно"


def test_pages_show_sentences(app: Flask, clock, staff_web, staff_member) -> None:
    client = make_client(clock)
    department = make_department("Поддержка")
    db.session.commit()
    audit.record(
        "ticket.update",
        "ticket",
        9,
        before={"department_id": None},
        after={"department_id": department.id},
        client_id=client.id,
    )
    db.session.commit()
    audit_page = staff_web.get("/admin/audit").get_data(as_text=True)
    card = staff_web.get(f"/admin/clients/{client.id}/log").get_data(as_text=True)
    for page in (audit_page, card):
        assert "moved the ticket to the department Поддержка" in page
        assert "department_id</b>" not in page
