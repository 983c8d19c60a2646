"""Benchmark of the billing run against the floor of a raw bulk insert of the same rows.

Usage: ``python bench/billing_run.py [N] [--postgres] [--batch-size B]`` (N services, one per
client, default 10 000; SQLite in a temporary file unless ``--postgres``, which uses a fresh
database on the server of ``PORTAL_TEST_POSTGRES_URL`` or 127.0.0.1:5432).

It seeds N clients with a monthly service each (due in 3 days, so the run invoices all of them),
runs ``bill_due`` once, and times it. Then it takes every row the run wrote (invoices, lines,
billed periods, audit entries, queued e-mails and their attachment stubs), deletes them and
inserts them again with plain ``executemany`` in one transaction, in the same process: the floor
no billing code can beat. Prints seconds, invoices per second and the ratio run / floor; nothing
is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, insert, select, text

AS_OF = date(2026, 11, 28)
DUE = date(2026, 12, 1)
TABLES = (
    "invoice",
    "invoice_line",
    "billed_period",
    "audit_entry",
    "outbound_message",
    "outbound_attachment",
)


def seed(n: int) -> None:
    """N clients with one monthly service each, by bulk insert (seeding is not measured)."""
    from portal.accounts.models import Client
    from portal.catalog.models import Product, ProductGroup, ProductPrice
    from portal.core.extensions import db
    from portal.orders.models import Service

    group = ProductGroup(name="Хостинг")
    product = Product(group=group, name="Виртуальный сервер «Старт»", tax_inclusive=False)
    product.prices.append(ProductPrice(currency="RUB", cycle="monthly", price=Decimal("990.00")))
    db.session.add(product)
    db.session.commit()
    now = datetime.now(UTC)
    step = 5000
    for first in range(0, n, step):
        clients = [
            {
                "email": f"client{first + i}@bench.example",
                "password_hash": "x",
                "session_token": f"t{first + i}",
                "first_name": f"Клиент {first + i}",
                "created_at": now,
            }
            for i in range(min(step, n - first))
        ]
        db.session.execute(insert(Client), clients)  # no RETURNING: SQLite would go row by row
    db.session.commit()
    ids = list(db.session.scalars(select(Client.id).order_by(Client.id)))
    for first in range(0, n, step):
        db.session.execute(
            insert(Service),
            [
                {
                    "client_id": client_id,
                    "product_id": product.id,
                    "status": "active",
                    "cycle": "monthly",
                    "currency": "RUB",
                    "registration_date": date(2026, 11, 1),
                    "period_start": date(2026, 11, 1),
                    "next_due_date": DUE,
                    "anchor_day": 1,
                    "recurring_amount": Decimal("990.00"),
                    "created_at": now,
                }
                for client_id in ids[first : first + step]
            ],
        )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # The statistics autovacuum keeps on a live database: without them the planner takes
        # the freshly loaded tables for empty ones.
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def floor(rows: dict[str, list[dict]]) -> float:
    """Seconds to delete nothing and insert ``rows`` back with plain executemany."""
    from portal.core.extensions import db

    metadata = db.metadata
    for name in reversed(TABLES):
        db.session.execute(delete(metadata.tables[name]))
    db.session.commit()
    started = time.perf_counter()
    for name in TABLES:
        if rows[name]:
            db.session.execute(insert(metadata.tables[name]), rows[name])
    db.session.commit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    import os

    os.environ["PORTAL_TEST_DATABASE"] = "postgres" if args.postgres else "sqlite"
    from portal.core.app import create_app
    from portal.core.clock import FrozenClock
    from portal.core.extensions import db
    from portal.invoicing.billing_run import bill_due
    from portal.platform.plugin_migrations import upgrade_all
    from portal.testing.databases import fresh_database

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(fresh_database(tmp))
        clock = FrozenClock(datetime(2026, 11, 28, 6, 0, tzinfo=UTC))
        settings = {"database_url": url, "secret_key": "bench"}
        app = create_app(settings, clock=clock, instance_path=str(tmp))
        stack.enter_context(app.app_context())
        upgrade_all()
        db.session.remove()
        seed(args.n)
        started = time.perf_counter()
        report = bill_due(AS_OF, batch_size=args.batch_size, started_by="bench")
        run_seconds = time.perf_counter() - started
        tables = db.metadata.tables
        rows = {
            name: [dict(row._mapping) for row in db.session.execute(select(tables[name]))]
            for name in TABLES
        }
        floor_seconds = floor(rows)
        database = "PostgreSQL" if args.postgres else "SQLite"
        print(f"billing run, {database}, {args.n} services, batch {args.batch_size}")
        mails = len(rows["outbound_message"])
        entries = len(rows["audit_entry"])
        print(f"  invoices {report.invoices}, lines {report.lines}, e-mails {mails}")
        print(f"  audit entries {entries}")
        print(f"  run    {run_seconds:8.2f} s   {report.invoices / run_seconds:10.0f} invoices/s")
        print(f"  floor  {floor_seconds:8.2f} s   (raw executemany of the same rows)")
        print(f"  ratio  {run_seconds / floor_seconds:8.2f} x the floor")


if __name__ == "__main__":
    main()
