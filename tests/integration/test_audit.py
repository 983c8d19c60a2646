"""The audit log: the record/snapshot/diff API, actors, transactions, immutability, the page
with its filters and CSV export, and the settings changes it records."""

import csv
import enum
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update

from portal.accounts import audit
from portal.accounts.models import ActorType, AuditEntry
from portal.accounts.models.audit import AuditLogImmutableError
from portal.core.extensions import db
from portal.platform import runtime_settings
from portal.testing.factories import make_staff


class Colour(enum.StrEnum):
    RED = "red"


class Thing:
    amount = Decimal("48336.10")
    due = date(2026, 2, 28)
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    colour = Colour.RED
    tags = frozenset({"b", "a"})
    name = "ООО «Ромашка»"
    nothing = None


def count(model=AuditEntry) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- API --------------------------------------------------------------------------------------


def test_snapshot_makes_values_json_safe_and_exact(app: Flask) -> None:
    fields = ("amount", "due", "at", "colour", "tags", "name", "nothing")
    assert audit.snapshot(Thing(), fields) == {
        "amount": "48336.10",
        "due": "2026-02-28",
        "at": "2026-11-02T09:00:00+00:00",
        "colour": "red",
        "tags": ["a", "b"],
        "name": "ООО «Ромашка»",
        "nothing": None,
    }


def test_diff_keeps_only_changed_fields(app: Flask) -> None:
    before = {"name": "Ромашка", "inn": "7707083893", "phone": "1", "gone": "x"}
    after = {"name": "Ромашка", "inn": "7736207543", "phone": "1", "new": "y"}
    assert audit.diff(before, after) == (
        {"inn": "7707083893", "gone": "x", "new": None},
        {"inn": "7736207543", "gone": None, "new": "y"},
    )
    assert audit.diff(before, dict(before)) == ({}, {})


def test_record_outside_a_request_is_the_system_at_the_clock_time(app: Flask, clock) -> None:
    clock.set(datetime(2026, 12, 31, 20, 59, tzinfo=UTC))
    entry = audit.record(
        "client.update", "client", 7, before={"a": 1}, after={"a": Decimal("2.50")}, client_id=7
    )
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(AuditEntry, entry.id)
    assert stored.actor_type is ActorType.SYSTEM and stored.actor_id is None
    assert stored.created_at == datetime(2026, 12, 31, 20, 59, tzinfo=UTC)
    assert (stored.entity, stored.entity_id, stored.client_id) == ("client", "7", 7)
    assert stored.after == {"a": "2.50"}


def test_record_joins_the_callers_transaction(app: Flask) -> None:
    audit.record("client.update", "client", 1, after={"x": 1})
    db.session.rollback()
    assert count() == 0  # a change that was rolled back leaves no trace
    audit.record("client.update", "client", 1, after={"x": 1})
    assert count() == 1  # visible inside the transaction (autoflush), not yet committed
    db.session.commit()
    assert count() == 1


def test_record_in_a_request_names_the_staff_member_and_address(app: Flask, staff_member) -> None:
    from flask_login import login_user

    with app.test_request_context("/admin/", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        login_user(staff_member)
        entry = audit.record("staff.update", "staff", staff_member.id)
    assert entry.actor_type is ActorType.STAFF and entry.actor_id == staff_member.id
    assert entry.actor_name == "Мария Бухгалтер" and entry.ip == "203.0.113.9"


def test_record_in_the_client_area_names_the_client(app: Flask, client_account) -> None:
    from flask_login import login_user

    with app.test_request_context("/"):
        login_user(client_account)
        entry = audit.record("client.update", "client", client_account.id)
    assert entry.actor_type is ActorType.CLIENT and entry.actor_name == "ООО «Ромашка»"


# --- immutability -----------------------------------------------------------------------------


@pytest.fixture
def entry(app: Flask) -> AuditEntry:
    recorded = audit.record("client.update", "client", 5, before={"a": 1}, after={"a": 2})
    db.session.commit()
    return recorded


def test_an_entry_cannot_be_changed(entry: AuditEntry) -> None:
    entry.after = {"a": 3}
    with pytest.raises(AuditLogImmutableError):
        db.session.commit()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(AuditEntry, entry.id).after == {"a": 2}


def test_an_entry_cannot_be_deleted(entry: AuditEntry) -> None:
    db.session.delete(entry)
    with pytest.raises(AuditLogImmutableError):
        db.session.commit()
    db.session.rollback()
    assert count() == 1


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEntry).values(note="rewritten"),
        delete(AuditEntry),
    ],
    ids=["bulk update", "bulk delete"],
)
def test_bulk_statements_cannot_touch_entries(entry: AuditEntry, statement) -> None:
    with pytest.raises(AuditLogImmutableError):
        db.session.execute(statement)
    db.session.rollback()
    db.session.expire_all()
    assert count() == 1 and db.session.get(AuditEntry, entry.id).note == ""


def test_unchanged_entries_in_a_dirty_session_do_not_trip_the_guard(entry: AuditEntry) -> None:
    entry.note = entry.note  # touched, not modified
    audit.record("client.update", "client", 6)
    db.session.commit()
    assert count() == 2


def test_no_route_edits_or_deletes_entries(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule


# --- what gets recorded -----------------------------------------------------------------------


def test_theme_change_is_recorded_with_before_and_after(app: Flask, staff_web, staff_member):
    response = staff_web.submit("/admin/settings/appearance", {"theme": "default"})
    assert response.status_code == 302
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "setting.update"))
    assert entry.entity_id == "theme" and entry.after == {"theme": "default"}
    assert entry.before == {"theme": None} and entry.actor_id == staff_member.id
    staff_web.submit("/admin/settings/appearance", {"theme": "default"})
    assert count() == 1 + _bootstrap_entries()  # saving the same value records nothing


def _bootstrap_entries() -> int:
    """Entries the factories wrote (giving the test staff their role)."""
    return db.session.scalar(select(func.count()).where(AuditEntry.action == "staff.role_change"))


def test_runtime_setting_outside_requests_is_recorded_as_system(app: Flask) -> None:
    runtime_settings.put("require_two_factor", True)
    [entry] = db.session.scalars(select(AuditEntry))
    assert entry.actor_type is ActorType.SYSTEM and entry.after == {"require_two_factor": True}


# --- the audit page ---------------------------------------------------------------------------


@pytest.fixture
def log(app: Flask, clock) -> None:
    """A few entries on different days (Moscow time), by different actors."""
    start = datetime(2026, 10, 31, 21, 30, tzinfo=UTC)  # 1 November, 00:30 in Moscow
    rows = [
        ("client.update", "client", 11, 11, {"inn": "7707083893"}, {"inn": "7736207543"}),
        ("client.delete", "client", 12, 12, {"email": "a@example.com"}, None),
        ("staff.block", "staff", 3, None, {"is_active": True}, {"is_active": False}),
        ("invoice.issue", "invoice", "2026-000123", 11, None, {"total": Decimal("100.00")}),
    ]
    for n, (action, entity, entity_id, client_id, before, after) in enumerate(rows):
        clock.set(start + timedelta(days=n))
        audit.record(
            action, entity, entity_id, before=before, after=after, client_id=client_id, note=f"n{n}"
        )
    db.session.commit()


def page_entries(web, query: str) -> list[str]:
    import re

    response = web.get(f"/admin/audit{query}")
    assert response.status_code == 200
    return re.findall(r"<code>([a-z_.]+)</code>", response.get_data(as_text=True))


def test_page_lists_newest_first_with_each_changed_field(staff_web, log) -> None:
    entries = page_entries(staff_web, "?action=client.update")
    assert entries == ["client.update"]
    page = staff_web.get("/admin/audit?action=client.update").get_data(as_text=True)
    assert 'data-field="inn"' in page and "7707083893" in page and "7736207543" in page
    everything = [e for e in page_entries(staff_web, "") if e != "staff.role_change"]
    assert everything == ["invoice.issue", "staff.block", "client.delete", "client.update"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?action=client.", ["client.delete", "client.update"]),
        ("?entity=staff", ["staff.block"]),
        ("?client_id=11", ["invoice.issue", "client.update"]),
        ("?entity=invoice&entity_id=2026-000123", ["invoice.issue"]),
        ("?since=2026-11-02&until=2026-11-03", ["staff.block", "client.delete"]),
        ("?until=2026-11-01", ["client.update"]),  # Moscow dates, not UTC ones
        ("?actor=system:0", []),
        ("?actor=staff:99999999999", []),  # no 32-bit overflow on PostgreSQL
    ],
)
def test_filters(staff_web, log, query, expected) -> None:
    assert [e for e in page_entries(staff_web, query) if e != "staff.role_change"] == expected


def test_out_of_range_client_id_is_a_form_error_not_a_crash(staff_web, log) -> None:
    page = staff_web.get("/admin/audit?client_id=7707083893")
    assert page.status_code == 200
    assert "Enter a whole number from" in page.get_data(as_text=True)


def test_filter_by_actor_name_and_id(app: Flask, staff_web, staff_member, clock) -> None:
    other = make_staff(clock, first_name="Пётр", role="support")
    staff_web.submit(
        f"/admin/staff/{other.id}",
        {
            "first_name": "Пётр",
            "last_name": "Новый",
            "email": other.email,
            "role": str(other.role_id),
            "language": "",
        },
    )
    assert page_entries(staff_web, "?actor=мария") == ["staff.update"]
    assert page_entries(staff_web, f"?actor=staff:{staff_member.id}") == ["staff.update"]
    assert page_entries(staff_web, "?actor=пётр") == []


def test_pagination(staff_web, clock) -> None:
    for n in range(55):
        audit.record("client.update", "client", n)
    db.session.commit()
    first = staff_web.get("/admin/audit?action=client.update").get_data(as_text=True)
    assert "55 in total" in first and "action=client.update" in first
    # the next page's link is a cursor after the last entry shown, keeping the filter
    (after,) = re.findall(r'rel="next" href="[^"]*\bafter=(\d+)', first)
    second = page_entries(staff_web, f"?action=client.update&after={after}")
    assert len(second) == 5


def test_csv_has_one_row_per_changed_field(staff_web, log) -> None:
    export = staff_web.get("/admin/audit?client_id=11&format=csv")
    assert export.mimetype == "text/csv" and export.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Time", "Who", "IP address", "Action"]
    by_action = {row[3]: row for row in rows[1:]}
    assert by_action["client.update"][7:10] == ["INN", "7707083893", "7736207543"]
    assert by_action["invoice.issue"][7:10] == ["Total", "—", "100.00"]
    assert by_action["client.update"][1] == "The system"  # recorded outside a request
    assert by_action["client.update"][11] == "The system changed the client's details"
    assert by_action["client.update"][0] == "2026-11-01 00:30:00"  # Moscow time
    assert len(rows) == 3


def test_audit_page_needs_audit_view(app: Flask, clock) -> None:
    web = app.test_client()
    web.sign_in_staff(make_staff(clock, role="accountant").email)
    assert web.get("/admin/audit").status_code == 403
    assert web.get("/admin/audit?format=csv").status_code == 403


def test_audit_page_queries_do_not_grow(app: Flask, staff_web, log) -> None:
    from sqlalchemy import event

    def measure() -> int:
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            staff_web.get("/admin/audit")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    staff_web.get("/admin/audit")
    few = measure()
    for n in range(40):
        audit.record("client.update", "client", n, before={"a": n}, after={"a": n + 1})
    db.session.commit()
    assert measure() == few
