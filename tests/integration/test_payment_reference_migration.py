"""Migration 0018: existing payments get the normal form of their reference where it can be
read (a statement's payment order, a gateway's transaction id), none for an order typed without
its date, and only the first of two payments already recorded for the same order (so the unique
index can be built); the revision downgrades cleanly."""

from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade

from portal.core.extensions import db
from portal.testing.databases import fresh_database
from tests.integration.test_sqlite_autoincrement_migration import _insert

BEFORE, AFTER = "0016_sqlite_autoincrement", "0018_payment_reference_key"
STATEMENT = "п/п 0701 от 03.12.2026 ИНН 7712345700"


def test_existing_payments_get_their_key(make_app, tmp_path: Path) -> None:
    with fresh_database(tmp_path, "_payment_keys") as url:
        other: Flask = make_app(database_url=url)
        with other.app_context():
            upgrade(revision=BEFORE)
            with db.engine.begin() as connection:
                client_id = _insert(connection, "client", email="a@example.com", currency="RUB")
                references = [
                    ("bank", STATEMENT),
                    ("bank", "701"),  # typed by hand, no date
                    ("bank", "п/п 701 от 03.12.2026"),  # typed with the date
                    ("bank", "п/п 701 от 3.12.2026 ИНН 7712345700"),  # the same order again
                    ("card", " tx-42"),
                ]
                ids = [
                    _insert(
                        connection,
                        "payment",
                        client_id=client_id,
                        kind="payment",
                        method=method,
                        reference=reference,
                        payment_date="2026-12-04",
                        currency="RUB",
                        amount=7000,
                        refunded=0,
                    )
                    for method, reference in references
                ]
            upgrade(revision=AFTER)
            with db.engine.connect() as connection:
                keys = dict(
                    connection.execute(sa.text("SELECT id, reference_key FROM payment")).all()
                )
            assert [keys[i] for i in ids] == [
                "701/2026-12-03/7712345700",
                None,
                "701/2026-12-03/",
                None,  # a duplicate from before: left for staff, the index holds
                "tx-42",
            ]
            downgrade(revision=BEFORE)
            with db.engine.connect() as connection:
                columns = {c["name"] for c in sa.inspect(connection).get_columns("payment")}
            assert "reference_key" not in columns and "reference" in columns
            db.engine.dispose()
