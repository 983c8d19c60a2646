"""Time per list page on a big PostgreSQL database (in-process test client, no web server).

Seeds (once; reused while the row counts match) 20 000 clients, 10 invoices each, and one client
with 2 000 invoices (half paid) and 2 000 payments; then times the client's invoice, documents
and transactions pages and the admin client and invoice lists on their first and a deep page
(``?page=N`` with OFFSET before keyset paging, ``?last=1`` and a cursor after it).

Usage: python bench/lists.py [postgresql://...]   (default: portal_bench_lists on 127.0.0.1)
Prints the median of 15 requests per page and the queries each runs; asserts nothing. Run it
with the code to compare first (an older checkout migrates the database to its own head).
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_lists"
CLIENTS = 20_000
PER_CLIENT = 10
BIG = 2_000
RUNS = 15


def _ensure_database(url: str) -> None:
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        )
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def _seed(big_client_id: int) -> None:
    from portal.accounts.models import Client
    from portal.core.extensions import db
    from portal.invoicing.models import Invoice, InvoiceStatus, Payment

    if db.session.scalar(sa.select(sa.func.count(Client.id))) >= CLIENTS:
        return
    now = datetime(2026, 1, 1, tzinfo=UTC)
    day = date(2025, 1, 1)
    for start in range(0, CLIENTS, 5_000):
        db.session.execute(
            sa.insert(Client),
            [
                {
                    "email": f"bench{n}@example.com",
                    "first_name": f"Клиент{n}",
                    "last_name": f"Фамилия{n % 997}",
                    "company": f"ООО Компания {n % 1999}",
                    "password_hash": "x",
                    "session_token": f"bench{n}",
                    "created_at": now,
                }
                for n in range(start, start + 5_000)
            ],
        )
    db.session.commit()
    ids = list(db.session.scalars(sa.select(Client.id).where(Client.email.like("bench%"))))
    sequence = 0

    def invoice(client_id: int, k: int) -> dict:
        nonlocal sequence
        sequence += 1
        paid = k % 2 == 0
        return {
            "client_id": client_id,
            "currency": "RUB",
            "created_at": now,
            "series": "B",
            "sequence": sequence,
            "number": f"B-{sequence:07d}",
            "status": InvoiceStatus.PAID if paid else InvoiceStatus.UNPAID,
            "issue_date": day + timedelta(days=k % 365),
            "due_date": day + timedelta(days=k % 365 + 10),
            "paid_date": day + timedelta(days=k % 365 + 3) if paid else None,
            "total": Decimal("1200.00"),
            "buyer": {},
        }

    rows = [invoice(big_client_id, k) for k in range(BIG)]
    for client_id in ids:
        rows += [invoice(client_id, k) for k in range(PER_CLIENT)]
        if len(rows) >= 10_000:
            db.session.execute(sa.insert(Invoice), rows)
            rows = []
    if rows:
        db.session.execute(sa.insert(Invoice), rows)
    db.session.execute(
        sa.insert(Payment),
        [
            {
                "client_id": big_client_id,
                "method": "bank",
                "reference": f"bench{k}",
                "reference_key": f"bench{k}",
                "payment_date": day + timedelta(days=k % 365),
                "currency": "RUB",
                "amount": Decimal("1200.00"),
                "created_at": now + timedelta(minutes=k),
            }
            for k in range(BIG)
        ],
    )
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def _time(web, url: str) -> tuple[float, int]:
    from sqlalchemy import event

    from portal.core.extensions import db

    assert web.get(url).status_code == 200, url
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        web.get(url)
        times.append(time.perf_counter() - start)
    statements: list[str] = []

    def count(*_args: object) -> None:
        statements.append("")

    event.listen(db.engine, "before_cursor_execute", count)
    web.get(url)
    event.remove(db.engine, "before_cursor_execute", count)
    return statistics.median(times) * 1000, len(statements)


def main(url: str) -> None:
    from portal.accounts.models import Client, Staff
    from portal.core.app import create_app
    from portal.core.clock import SystemClock
    from portal.core.extensions import db
    from portal.invoicing.models import Invoice
    from portal.platform.plugin_migrations import upgrade_all
    from portal.testing.factories import make_client, make_staff
    from portal.testing.web import WebClient

    keyset = importlib.util.find_spec("portal.web.paging") is not None
    _ensure_database(url)
    with tempfile.TemporaryDirectory() as tmp:
        settings = {
            "database_url": url,
            "secret_key": "bench",
            "session_cookie_secure": False,
            "login_rate_limit_account": "100000 per minute",
            "login_rate_limit_address": "100000 per minute",
            "plugins": [],
        }
        app = create_app(settings, instance_path=tmp)
        app.test_client_class = WebClient
        with app.app_context():
            upgrade_all()
            clock = SystemClock()
            big = db.session.scalar(sa.select(Client).where(Client.email == "big@example.com"))
            big = big or make_client(clock, email="big@example.com", first_name="Большой")
            staff = db.session.scalar(sa.select(Staff).where(Staff.email == "bench@example.com"))
            staff = staff or make_staff(clock, email="bench@example.com")
            _seed(big.id)
            invoices = db.session.scalar(sa.select(sa.func.count(Invoice.id)))
            print(f"{'keyset' if keyset else 'OFFSET'} code; {invoices} invoices")
            admin, client = app.test_client(), app.test_client()
            admin.sign_in_staff(staff.email)
            client.sign_in_client(big.email)
            deep_invoice = db.session.scalar(
                sa.select(Invoice.id).order_by(Invoice.id).offset(1_000).limit(1)
            )
            deep_client = db.session.scalar(
                sa.select(Client.id).order_by(Client.id).offset(500).limit(1)
            )
            pages = [
                (client, "client /invoices (2 000 invoices)", "/invoices"),
                (client, "client /documents (1 000 acts)", "/documents"),
                (client, "client /transactions (2 000)", "/transactions"),
                (admin, "admin clients p1", "/admin/clients"),
                (admin, "admin clients by company", "/admin/clients?sort=company&dir=asc"),
                (admin, "admin invoices p1", "/admin/billing/invoices"),
            ]
            if keyset:
                pages += [
                    (admin, "admin invoices last", "/admin/billing/invoices?last=1"),
                    (admin, "admin invoices deep", f"/admin/billing/invoices?after={deep_invoice}"),
                    (admin, "admin clients deep", f"/admin/clients?after={deep_client}"),
                ]
            else:
                pages += [
                    (admin, "admin invoices page 4 000", "/admin/billing/invoices?page=4000"),
                    (admin, "admin clients page 390", "/admin/clients?page=390"),
                ]
            for web, label, path in pages:
                ms, queries = _time(web, path)
                print(f"{label:<36} {ms:8.1f} ms  {queries:3d} queries")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL)
