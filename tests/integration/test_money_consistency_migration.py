"""Migration 0017: past refunds lower the allocations they gave back (newest first), as the
refund code now does, so the money check agrees with refunds made before the upgrade."""

from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from portal.core.extensions import db
from portal.testing.databases import fresh_database
from tests.integration.test_sqlite_autoincrement_migration import _insert

BEFORE, AFTER = "0016_sqlite_autoincrement", "0017_money_consistency"


def test_past_refunds_lower_the_allocations_newest_first(make_app, tmp_path: Path) -> None:
    with fresh_database(tmp_path, "_money") as url:
        other: Flask = make_app(database_url=url)
        with other.app_context():
            upgrade(revision=BEFORE)
            with db.engine.begin() as connection:
                client = _insert(connection, "client", email="c@example.com")
                invoice = _insert(connection, "invoice", client_id=client, currency="RUB")
                # amounts as stored (units on SQLite, numeric on PostgreSQL): moved as they are
                refunded = _insert(
                    connection, "payment", client_id=client, reference="a", refunded=70
                )
                untouched = _insert(connection, "payment", client_id=client, reference="b")
                older = _insert(
                    connection,
                    "payment_allocation",
                    payment_id=refunded,
                    invoice_id=invoice,
                    amount=50,
                )
                newer = _insert(
                    connection,
                    "payment_allocation",
                    payment_id=refunded,
                    invoice_id=invoice,
                    amount=40,
                )
                other_row = _insert(
                    connection,
                    "payment_allocation",
                    payment_id=untouched,
                    invoice_id=invoice,
                    amount=30,
                )
            upgrade(revision=AFTER)
            with db.engine.connect() as connection:
                amounts = dict(
                    connection.execute(sa.text("SELECT id, amount FROM payment_allocation")).all()
                )
            assert amounts == {older: 20, newer: 0, other_row: 30}
            db.session.remove()
            db.engine.dispose()
