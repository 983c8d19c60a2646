"""Migration 0016: SQLite tables are rebuilt with AUTOINCREMENT keeping every row, index and
constraint, cascading nothing, and ids already used (even by rows now deleted, which the audit
log still names) are never handed out again. On PostgreSQL it changes nothing."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy.schema import CreateTable

from portal.core.extensions import db
from portal.testing.databases import fresh_database

BEFORE, AFTER = "0015_client_pricing_rules", "0016_sqlite_autoincrement"


def _filler(column: dict[str, Any]) -> Any:
    """A value for a required column, so the rows fit the schema of any later revision."""
    if isinstance(column["type"], sa.JSON):
        return "{}"
    try:
        python = column["type"].python_type
    except NotImplementedError:
        python = str
    if python is bool:
        return False
    if python is int:
        return 0
    if python is Decimal or python is float:
        return 0
    if python is datetime:
        return "2026-01-01 00:00:00.000000"
    if python is date:
        return "2026-01-01"
    return "x"


def _insert(connection: sa.Connection, table: str, **values: Any) -> int:
    """Insert a row with ``values`` and fillers for the other required columns; its id."""
    for column in sa.inspect(connection).get_columns(table):
        required = not column["nullable"] and column["default"] is None
        if required and column["name"] not in values and column["name"] != "id":
            values[column["name"]] = _filler(column)
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    connection.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)
    return connection.execute(sa.text(f"SELECT max(id) FROM {table}")).scalar_one()


def _shape(connection: sa.Connection) -> dict[str, Any]:
    """Every table's columns, indexes, unique and foreign keys, as the database reports them."""
    inspector = sa.inspect(connection)
    shape = {}
    for table in inspector.get_table_names():
        shape[table] = (
            [
                (c["name"], str(c["type"]), c["nullable"], c["default"])
                for c in inspector.get_columns(table)
            ],
            sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            sorted(
                (
                    f["name"] or "",
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    tuple(f["referred_columns"]),
                    tuple(sorted((f.get("options") or {}).items())),
                )
                for f in inspector.get_foreign_keys(table)
            ),
            inspector.get_pk_constraint(table)["constrained_columns"],
        )
    return shape


def _rows(connection: sa.Connection) -> dict[str, list[tuple]]:
    return {
        table: sorted(tuple(row) for row in connection.execute(sa.text(f"SELECT * FROM {table}")))
        for table in ("client", "contact", "note", "audit_entry")
    }


def _autoincrement_tables(connection: sa.Connection) -> set[str]:
    rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
    return {name for name, sql in rows if "AUTOINCREMENT" in sql.upper()}


def _models_autoincrement(connection: sa.Connection) -> set[str]:
    """The tables there whose model SQLite would create with AUTOINCREMENT."""
    present = set(sa.inspect(connection).get_table_names())
    return {
        table.name
        for table in db.metadata.tables.values()
        if table.name in present
        and "AUTOINCREMENT" in str(CreateTable(table).compile(dialect=connection.dialect))
    }


def test_tables_are_rebuilt_with_their_rows_and_ids_are_never_reused(
    make_app, tmp_path: Path
) -> None:
    with fresh_database(tmp_path, "_autoincrement") as url:
        other: Flask = make_app(database_url=url)
        with other.app_context():
            upgrade(revision=BEFORE)
            with db.engine.begin() as connection:
                first = _insert(connection, "client", first_name="Анна", email="a@example.com")
                second = _insert(connection, "client", first_name="Борис", email="b@example.com")
                merged = _insert(connection, "client", first_name="Дубль", email="d@example.com")
                _insert(connection, "contact", client_id=first, first_name="Бухгалтер")
                _insert(connection, "note", client_id=second, body="звонил")
                _insert(connection, "client", first_name="Ушедший", email="g@example.com")
                gone = connection.execute(sa.text("SELECT max(id) FROM client")).scalar_one()
                # Merged and deleted before the upgrade: only the audit log remembers them.
                connection.execute(
                    sa.text("DELETE FROM client WHERE id IN (:m, :g)"), {"m": merged, "g": gone}
                )
                _insert(
                    connection,
                    "audit_entry",
                    actor_type="system",
                    action="client.delete",
                    entity="client",
                    entity_id=str(gone),
                    client_id=None,
                )
                _insert(
                    connection,
                    "audit_entry",
                    actor_type="system",
                    action="note.create",
                    entity="note",
                    entity_id="1",
                    client_id=gone,
                )
            with db.engine.connect() as connection:
                shape, rows = _shape(connection), _rows(connection)

            upgrade(revision=AFTER)
            with db.engine.connect() as connection:
                assert _shape(connection) == shape
                assert _rows(connection) == rows
                if connection.dialect.name == "sqlite":
                    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                    assert "client" in _autoincrement_tables(connection)
                    assert _autoincrement_tables(connection) == _models_autoincrement(connection)
            with db.engine.begin() as connection:
                newcomer = _insert(connection, "client", first_name="Новый", email="n@e.com")
                assert newcomer > gone
                connection.execute(sa.text("DELETE FROM client WHERE id = :id"), {"id": newcomer})
                assert _insert(connection, "client", first_name="Ещё", email="e@e.com") > newcomer
                # Foreign keys are on again: deleting a client still removes its contacts.
                connection.execute(sa.text("DELETE FROM client WHERE id = :id"), {"id": first})
                orphans = connection.execute(
                    sa.text("SELECT count(*) FROM contact WHERE client_id = :id"), {"id": first}
                ).scalar_one()
                assert orphans == 0

            with db.engine.connect() as connection:
                rows = _rows(connection)
            downgrade(revision=BEFORE)
            with db.engine.connect() as connection:
                assert _shape(connection) == shape
                assert _rows(connection) == rows
            db.engine.dispose()
