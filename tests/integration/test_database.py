"""The schema comes from migrations on both databases, and money is stored exactly."""

from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade

from portal.core.column_types import MoneyType
from portal.core.extensions import db
from portal.platform.plugin_migrations import upgrade_all
from portal.testing.databases import fresh_database


def test_upgrade_from_empty_matches_the_models_and_downgrades(make_app, tmp_path: Path) -> None:
    with fresh_database(tmp_path, "_migrations") as url:
        other: Flask = make_app(database_url=url)
        with other.app_context():
            upgrade_all()  # the core's head (an installed plugin's branch is another head)
            with db.engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"compare_type": True, "render_as_batch": True}
                )
                assert compare_metadata(context, db.metadata) == []
                tables = set(sa.inspect(connection).get_table_names())
            assert {"staff", "client", "setting", "product"} <= tables
            downgrade(revision="base")
            with db.engine.connect() as connection:
                assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()


money_table = sa.Table(
    "test_money_roundtrip",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("amount", MoneyType(18, 4)),
)

AMOUNTS = [
    Decimal("0.1"),
    Decimal("0.01"),
    Decimal("48336.00"),
    Decimal("-669.00"),
    Decimal("0.1111"),
    Decimal("99999999999999.9999"),
    Decimal("-0.0001"),
    Decimal("0"),
]


@pytest.fixture
def money_rows(app: Flask):
    money_table.create(db.engine)
    try:
        yield
    finally:
        money_table.drop(db.engine)


def test_money_round_trips_exactly_and_sums_exactly(money_rows) -> None:
    with db.engine.begin() as connection:
        connection.execute(money_table.insert(), [{"amount": value} for value in AMOUNTS])
    with db.engine.connect() as connection:
        stored = connection.execute(sa.select(money_table.c.amount).order_by("id")).scalars()
        assert list(stored) == AMOUNTS
        total = connection.execute(sa.select(sa.func.sum(money_table.c.amount))).scalar_one()
    assert total == sum(AMOUNTS)
    assert isinstance(total, Decimal)
    ten_tenths = sum([Decimal("0.1")] * 10)
    assert ten_tenths == Decimal("1.0")  # the float trap this column exists to avoid


@pytest.mark.parametrize(
    ("value", "error"),
    [(0.1, TypeError), ("0.1", TypeError), (Decimal("0.00001"), ValueError)],
)
def test_money_refuses_floats_and_hidden_rounding(money_rows, value, error) -> None:
    with pytest.raises(sa.exc.StatementError) as caught, db.engine.begin() as connection:
        connection.execute(money_table.insert(), {"amount": value})
    assert isinstance(caught.value.orig, error)


def test_sqlite_runs_with_foreign_keys_on(app: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragma")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_savepoint_is_undone_with_the_transaction_around_it(app: Flask) -> None:
    """Python's sqlite3 starts no transaction before a SAVEPOINT; one opened before any write
    used to be committed by its release, out of reach of the caller's rollback."""
    from portal.core.transactions import savepoint
    from portal.platform.models.setting import Setting

    db.session.scalar(sa.select(sa.func.count()).select_from(Setting))  # a service reads first
    with savepoint():
        db.session.add(Setting(key="probe", value=1))
    db.session.rollback()
    assert db.session.get(Setting, "probe") is None

    with pytest.raises(ZeroDivisionError), savepoint():
        db.session.add(Setting(key="undone", value=1))
        db.session.flush()
        _ = 1 / 0
    db.session.add(Setting(key="kept", value=2))
    db.session.commit()
    assert [s.key for s in db.session.scalars(sa.select(Setting))] == ["kept"]


def test_a_unit_of_work_commits_once_or_rolls_back_and_nested_units_join_it(app: Flask) -> None:
    from portal.core.transactions import unit_of_work
    from portal.platform.models.setting import Setting

    def keys() -> list[str]:
        db.session.rollback()  # what another transaction would see
        return sorted(db.session.scalars(sa.select(Setting.key)))

    @unit_of_work()
    def put(key: str, *, fail: bool = False) -> None:
        db.session.add(Setting(key=key, value=1))
        db.session.flush()
        if fail:
            raise ValueError(key)

    put("committed")
    assert keys() == ["committed"]
    with pytest.raises(ValueError, match="refused"):
        put("refused", fail=True)
    assert keys() == ["committed"]

    with pytest.raises(ZeroDivisionError), unit_of_work():
        put("inner")  # joins the outer unit: not committed on its own
        _ = 1 / 0
    assert keys() == ["committed"]
    with unit_of_work():
        put("first")
        put("second")
    assert keys() == ["committed", "first", "second"]
