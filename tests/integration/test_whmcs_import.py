"""``portal import whmcs``: a WHMCS 8.x database (real MariaDB, tests/fixtures/whmcs) imported
into the portal's database (SQLite, or PostgreSQL with the postgres backend).

The people and support half: clients with their legal details, users, contacts, custom fields,
staff, notes, to-dos, tickets; the dry run, repeated runs and ``--since``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

from flask import Flask
from sqlalchemy import create_engine, func, select, text

from portal.accounts.models import (
    Client,
    ClientStatus,
    Contact,
    CustomField,
    CustomFieldValue,
    Department,
    Note,
    Staff,
    TodoItem,
)
from portal.accounts.requisites import LegalType
from portal.accounts.staff import ensure_builtin_roles
from portal.catalog import currencies
from portal.core.extensions import db
from portal.imports.models import ImportMapping
from portal.imports.whmcs.context import ImportOptions
from portal.imports.whmcs.runner import import_whmcs
from portal.imports.whmcs.source import WhmcsSource
from portal.messaging.models.outbox import OutboundMessage
from portal.support.models import (
    MessageKind,
    Ticket,
    TicketMessage,
    TicketPriority,
    TicketStatus,
)
from portal.testing.plugin import DEFAULT_NOW

PEOPLE_TABLES = (
    "tblcurrencies",
    "tblticketdepartments",
    "tbladmins",
    "tblclients",
    "tblusers_clients",
    "tblcontacts",
    "tblcustomfields",
    "tblcustomfieldsvalues",
    "tblnotes",
    "tbltodolist",
    "tbltickets",
    "tblticketreplies",
    "tblticketnotes",
)


def client_by_email(email: str) -> Client:
    return db.session.scalars(select(Client).where(Client.email == email)).one()


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def source_execute(url: str, sql: str) -> None:
    """Change the WHMCS database as WHMCS would (its relaxed SQL mode)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'"))
        connection.execute(text(sql))
    engine.dispose()


def test_source_reads_whmcs_values_as_the_portal_wants_them(whmcs_source: str) -> None:
    source = WhmcsSource(whmcs_source)
    try:
        rows = {row["id"]: row for row in source.rows("tblclients")}
        currency = {row["code"]: row for row in source.rows("tblcurrencies")}
    finally:
        source.close()
    assert rows[2]["datecreated"] is None  # 0000-00-00
    assert rows[2]["created_at"] is None  # 0000-00-00 00:00:00
    assert rows[1]["datecreated"] == date(2020, 1, 15)
    assert rows[4]["credit"] == Decimal("0.00") and isinstance(rows[4]["credit"], Decimal)
    assert currency["USD"]["rate"] == Decimal("0.01100")
    assert rows[1]["companyname"] == "ООО «Ромашка»"


def test_latin1_columns_holding_utf8_are_repaired(whmcs_source: str) -> None:
    """Old installs wrote UTF-8 through a latin1 connection into latin1 columns."""
    source_execute(
        whmcs_source,
        "CREATE TABLE tbllatin1probe (id INT PRIMARY KEY, note TEXT CHARACTER SET latin1)",
    )
    try:
        source_execute(
            whmcs_source,
            "INSERT INTO tbllatin1probe VALUES"
            " (1, CONVERT(CAST('Звонить днём' AS BINARY) USING latin1)), (2, 'Café')",
        )
        source = WhmcsSource(whmcs_source)
        try:
            notes = {row["id"]: row["note"] for row in source.rows("tbllatin1probe")}
        finally:
            source.close()
    finally:
        source_execute(whmcs_source, "DROP TABLE tbllatin1probe")
    assert notes == {1: "Звонить днём", 2: "Café"}


def test_import_maps_clients_users_contacts_and_legal_details(
    app: Flask, whmcs_source: str
) -> None:
    report = import_whmcs(whmcs_source)

    assert count(Client) == 4
    romashka = client_by_email("romashka@example.ru")
    assert (romashka.company, romashka.legal_type) == ("ООО «Ромашка»", LegalType.LEGAL_ENTITY)
    assert (romashka.inn, romashka.kpp) == ("7707083893", "773601001")
    assert romashka.address == "ул. Ленина, д. 1, офис 5"
    assert (romashka.language, romashka.currency, romashka.status) == (
        "ru",
        "RUB",
        ClientStatus.ACTIVE,
    )
    assert romashka.admin_notes == "Ключевой клиент"
    # The owner's WHMCS hash, kept for the first sign-in (portal.accounts.legacy_passwords).
    assert romashka.password_hash.startswith("whmcs$$2y$10$")

    petr = client_by_email("petr@example.ru")  # the e-mail is stored lower-case
    assert petr.legal_type is LegalType.INDIVIDUAL and petr.inn == ""
    assert petr.created_at == DEFAULT_NOW  # datecreated 0000-00-00: the day of the import
    assert petr.last_login_at is None
    assert petr.status is ClientStatus.INACTIVE
    assert petr.no_late_fees and petr.no_overdue_notices
    assert petr.password_hash == "whmcs$c68bbf5be56bc6367080a63fab06e409:xY7!q"

    acme = client_by_email("acme@example.com")
    assert (acme.currency, acme.language, acme.tax_exempt) == ("USD", "en", True)
    assert (acme.inn, acme.kpp) == ("", "")  # invalid: not imported...
    assert "7707083894" in acme.admin_notes and "12345" in acme.admin_notes  # ...but kept

    sole = client_by_email("kuznetsov@example.ru")
    assert (sole.legal_type, sole.inn) == (LegalType.SOLE_PROPRIETOR, "500100732259")
    assert sole.status is ClientStatus.CLOSED and sole.closed_at is not None

    contacts = {c.email: c for c in db.session.scalars(select(Contact).order_by(Contact.id))}
    assert set(contacts) == {"anna@romashka.ru", "buh@romashka.ru", "tech@acme.example"}
    assert contacts["anna@romashka.ru"].receives == ["invoices"]
    assert romashka.billing_contact_id == contacts["anna@romashka.ru"].id
    # The accountant is a WHMCS user of two clients: a contact of each.
    buh = db.session.scalars(select(Contact).where(Contact.email == "buh@romashka.ru")).all()
    assert {c.client_id for c in buh} == {romashka.id, sole.id}

    refused = {(r.table, r.source_id, r.field) for r in report.refusals}
    assert {
        ("tblclients", "3", "ИНН"),
        ("tblclients", "3", "КПП"),
        ("tblclients", "5", None),
        ("tblclients", "6", None),
        ("tbladmins", "3", None),
        ("tblcustomfields", "4", None),
        ("tbltickets", "3", None),
        ("tblticketreplies", "4", None),
        ("tblnotes", "3", None),
        ("tblcontacts", "3", None),
    } <= refused
    assert report.tables["tblclients"].created == 4 and report.tables["tblclients"].refused == 2
    assert report.source.counts["clients"] == 6 and report.imported.counts["clients"] == 4
    assert count(OutboundMessage) == 0  # nobody was mailed


def test_import_maps_custom_fields_staff_notes_todos_and_currencies(
    app: Flask, whmcs_source: str
) -> None:
    ensure_builtin_roles()  # seeded by the migrations; tests empty every table
    import_whmcs(whmcs_source)

    fields = {f.name: f for f in db.session.scalars(select(CustomField))}
    assert set(fields) == {"ИНН", "КПП", "Код контрагента 1С"}
    assert not fields["Код контрагента 1С"].client_visible
    romashka = client_by_email("romashka@example.ru")
    value = db.session.scalars(
        select(CustomFieldValue).where(
            CustomFieldValue.client_id == romashka.id,
            CustomFieldValue.field_id == fields["Код контрагента 1С"].id,
        )
    ).one()
    assert value.value == "К-000123"

    staff = {s.email: s for s in db.session.scalars(select(Staff))}
    assert set(staff) == {"ivan@provider.test", "maria@provider.test"}
    ivan = staff["ivan@provider.test"]
    assert not ivan.is_active and not ivan.check_password("")  # no WHMCS password: reset
    assert ivan.is_administrator and ivan.language == "ru"
    assert {d.name for d in ivan.departments} == {"Техподдержка", "Бухгалтерия"}
    assert staff["maria@provider.test"].role.key == "support"
    assert db.session.scalars(
        select(Department.hidden).where(Department.name == "Бухгалтерия")
    ).one()

    notes = db.session.scalars(select(Note).order_by(Note.id)).all()
    assert [(n.body, n.important, n.author_id) for n in notes] == [
        ("Звонить только после 10:00", True, ivan.id),
        ("Просил счёт на бумаге", False, None),
    ]
    todos = {t.title: t for t in db.session.scalars(select(TodoItem))}
    assert todos["Проверить реквизиты Acme"].due_date == date(2026, 12, 10)
    assert todos["Проверить реквизиты Acme"].assignee_id == ivan.id
    assert "Pending" in todos["Проверить реквизиты Acme"].description
    assert todos["Перенести DNS"].done_at is not None and todos["Перенести DNS"].due_date is None
    assert todos["Позвонить в банк"].done_at is None

    assert currencies.enabled_currencies() == ["RUB", "USD"]
    assert currencies.exchange_rate("USD", DEFAULT_NOW.date()) == Decimal("90.9091")


def test_import_maps_tickets_with_replies_and_notes(app: Flask, whmcs_source: str) -> None:
    import_whmcs(whmcs_source)

    assert count(Ticket) == 2
    romashka = client_by_email("romashka@example.ru")
    ticket = db.session.scalars(select(Ticket).where(Ticket.client_id == romashka.id)).one()
    assert ticket.subject == "Не открывается сайт"
    assert (ticket.status, ticket.priority) == (TicketStatus.CUSTOMER_REPLY, TicketPriority.HIGH)
    assert ticket.department.name == "Техподдержка"
    assert ticket.tags == ["whmcs-482913"]
    assert ticket.reference != "482913" and len(ticket.reference) == 8
    assert ticket.cc == ["anna@romashka.ru"]
    assert [(m.kind, m.body.split("\n")[0]) for m in ticket.messages] == [
        (MessageKind.CLIENT, "Сайт недоступен с утра, ошибка 502."),
        (MessageKind.STAFF, "Проверяем, перезапустили веб-сервер."),
        (MessageKind.NOTE, "Падал php-fpm, смотрим логи."),
        (MessageKind.CLIENT, "Теперь открывается, спасибо!"),
    ]
    ivan = db.session.scalars(select(Staff).where(Staff.email == "ivan@provider.test")).one()
    assert ticket.messages[1].staff_id == ivan.id and ticket.messages[2].staff_id == ivan.id
    assert "screenshot.png" in ticket.messages[0].body  # attachments named, not carried
    assert ticket.first_response_at is not None

    guest = db.session.scalars(select(Ticket).where(Ticket.client_id.is_(None))).one()
    assert (guest.guest_email, guest.status) == ("guest@example.org", TicketStatus.CLOSED)
    assert guest.closed_at is not None
    assert count(OutboundMessage) == 0


def test_dry_run_writes_nothing_and_says_what_it_would_do(app: Flask, whmcs_source: str) -> None:
    report = import_whmcs(whmcs_source, dry_run=True)

    assert report.dry_run
    assert report.tables["tblclients"].created == 4
    assert report.tables["tbltickets"].created == 2
    assert any(r.table == "tblclients" and r.source_id == "5" for r in report.refusals)
    db.session.rollback()
    for model in (Client, Contact, Staff, Ticket, Note, TodoItem, CustomField, ImportMapping):
        assert count(model) == 0, model
    assert currencies.enabled_currencies() == ["RUB"]
    assert "would be created" in "\n".join(report.lines())


def test_a_second_import_changes_nothing(app: Flask, whmcs_source: str) -> None:
    import_whmcs(whmcs_source)
    mapped = count(ImportMapping)
    clients, messages = (
        count(Client),
        sum(len(t.messages) for t in db.session.scalars(select(Ticket))),
    )

    again = import_whmcs(whmcs_source)

    for table in PEOPLE_TABLES:
        counts = again.tables[table]
        assert (counts.created, counts.changed) == (0, 0), table
    assert again.tables["tblclients"].unchanged == 4
    assert (count(ImportMapping), count(Client)) == (mapped, clients)
    assert sum(len(t.messages) for t in db.session.scalars(select(Ticket))) == messages


def test_changed_rows_are_updated_and_new_ones_added(app: Flask, whmcs_source: str) -> None:
    import_whmcs(whmcs_source)
    romashka_id = client_by_email("romashka@example.ru").id
    source_execute(
        whmcs_source,
        "UPDATE tblclients SET city = 'Санкт-Петербург', updated_at = '2026-11-01 10:00:00'"
        " WHERE id = 1",
    )
    source_execute(
        whmcs_source,
        "INSERT INTO tblclients (id, firstname, lastname, email, currency, datecreated, status,"
        " created_at, updated_at) VALUES (7, 'Новый', 'Клиент', 'new@example.ru', 1,"
        " '2026-11-01', 'Active', '2026-11-01 10:00:00', '2026-11-01 10:00:00')",
    )
    source_execute(
        whmcs_source,
        "INSERT INTO tblticketreplies (id, tid, userid, name, email, date, message, admin)"
        " VALUES (5, 1, 0, '', '', '2026-11-01 12:00:00', 'Ещё раз проверили.', 'Maria Smirnova')",
    )

    report = import_whmcs(whmcs_source)

    assert (report.tables["tblclients"].changed, report.tables["tblclients"].created) == (1, 1)
    assert report.tables["tblticketreplies"].created == 1
    db.session.expire_all()
    romashka = db.session.get(Client, romashka_id)
    assert romashka.city == "Санкт-Петербург"
    assert romashka.inn == "7707083893"  # its custom fields were read again with it
    assert count(Client) == 5
    ticket = db.session.scalars(select(Ticket).where(Ticket.client_id == romashka_id)).one()
    assert ticket.messages[-1].body == "Ещё раз проверили."


def test_since_reads_only_rows_changed_from_that_day(app: Flask, whmcs_source: str) -> None:
    import_whmcs(whmcs_source)
    source_execute(
        whmcs_source,
        "UPDATE tblclients SET phonenumber = '+7 495 111-11-11', updated_at = '2026-11-01'"
        " WHERE id = 3",
    )
    source_execute(
        whmcs_source,
        "INSERT INTO tblticketreplies (id, tid, userid, name, email, date, message, admin)"
        " VALUES (5, 2, 0, '', '', '2026-11-01 12:00:00', 'Счёт выставлен.', 'Иван Петров')",
    )
    # A change WHMCS did not date (updated_at left as it was) is not seen with --since...
    source_execute(whmcs_source, "UPDATE tblclients SET city = 'Химки' WHERE id = 1")

    report = import_whmcs(whmcs_source, since=date(2026, 10, 15))

    counts = report.tables["tblclients"]
    assert (counts.changed, counts.created, counts.unchanged) == (1, 0, 0)
    assert client_by_email("acme@example.com").phone == "+7 495 111-11-11"
    assert report.tables["tblticketreplies"].created == 1
    assert "tbladmins" not in report.tables  # no admin changed: none read...
    ivan = db.session.scalars(select(Staff).where(Staff.email == "ivan@provider.test")).one()
    reply = db.session.scalars(select(TicketMessage).order_by(TicketMessage.id.desc())).first()
    assert (reply.body, reply.staff_id) == ("Счёт выставлен.", ivan.id)  # ...yet found
    assert client_by_email("romashka@example.ru").city == "Москва"
    # ...and is by a full run.
    full = import_whmcs(whmcs_source)
    assert full.tables["tblclients"].changed == 1
    assert client_by_email("romashka@example.ru").city == "Химки"


def test_the_command_prints_the_report_and_fails_only_on_a_failure(
    app: Flask, whmcs_source: str
) -> None:
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["import", "whmcs", "--from", whmcs_source, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run: nothing was written" in dry.output
    assert "tblclients" in dry.output and "would be created" in dry.output
    assert "tblclients #5: no e-mail" in dry.output  # refusals with their reasons
    assert count(Client) == 0

    done = runner.invoke(args=["import", "whmcs", "--from", whmcs_source])
    assert done.exit_code == 0, done.output
    assert count(Client) == 4
    assert "clients" in done.output.split("sums")[-1]

    unreachable = whmcs_source.rsplit("/", 1)[0] + "/no_such_whmcs_database"
    failed = runner.invoke(args=["import", "whmcs", "--from", unreachable])
    assert failed.exit_code == 1
    assert "The import stopped" in failed.output and "Traceback" not in failed.output


def test_long_tables_show_progress(app: Flask, whmcs_source: str) -> None:
    bars: dict[str, list[int]] = {}

    @contextmanager
    def progress(label: str, length: int) -> Iterator[object]:
        done = bars.setdefault(label, [length, 0])

        class Bar:
            def update(self, n_steps: int) -> None:
                done[1] += n_steps

        yield Bar()

    import_whmcs(whmcs_source, progress=progress, options=ImportOptions(progress_from=6))

    assert bars["tblclients"] == [6, 6]  # every row counted, as many as announced
    assert "tblcurrencies" not in bars  # two rows: no bar


def test_since_sees_a_changed_inn_custom_value(app: Flask, whmcs_source: str) -> None:
    import_whmcs(whmcs_source)
    source_execute(
        whmcs_source,
        "UPDATE tblcustomfieldsvalues SET value = '7707083893', updated_at = '2026-11-01'"
        " WHERE id = 4",
    )

    report = import_whmcs(whmcs_source, since=date(2026, 10, 15))

    assert report.tables["tblclients"].changed == 1
    assert client_by_email("acme@example.com").inn == "7707083893"


def test_the_fields_holding_inn_and_kpp_can_be_named(app: Flask, whmcs_source: str) -> None:
    source_execute(whmcs_source, "UPDATE tblcustomfields SET fieldname = 'Tax number' WHERE id = 1")
    runner = app.test_cli_runner()

    plain = runner.invoke(args=["import", "whmcs", "--from", whmcs_source, "--dry-run"])
    named = runner.invoke(
        args=["import", "whmcs", "--from", whmcs_source, "--inn-field", "tax number"]
    )

    assert "invalid ИНН" not in plain.output  # 'Tax number' is no ИНН field by default
    assert named.exit_code == 0, named.output
    assert "tblclients #3 ИНН: invalid ИНН '7707083894'" in named.output
    assert client_by_email("romashka@example.ru").inn == "7707083893"
