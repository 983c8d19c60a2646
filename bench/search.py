"""Benchmark of the admin search on PostgreSQL with and without its trigram indexes.

Usage: ``python bench/search.py [--reseed] [--clients N]`` (``make bench-search``). The database
``portal_bench_search`` on the server of ``PORTAL_TEST_POSTGRES_URL`` (default 127.0.0.1:5432) is
kept between runs and seeded once (100 000 clients with Russian names, companies, e-mails, phones
and INNs; two invoices per client). Each query runs as the client list runs it (the count and the
first page of 50, newest first) through ``portal.platform.search``, five times; the median is
printed with the trigram indexes and again with them dropped inside a transaction that is rolled
back (the database keeps its indexes), with the plan's first line. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from large_data import CLIENT_LOGIN, insert_series  # bench/large_data.py: the shared seed
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

DATABASE = "portal_bench_search"
CLIENTS = 100_000
RUNS = 5
FIRST = "ARRAY['Иван','Мария','Пётр','Анна','Сергей','Ольга','Алексей','Елена']"
LAST = "ARRAY['Иванов','Петрова','Сидоров','Смирнова','Кузнецов','Попова','Васильев','Новикова']"
QUERIES = (
    ("last name, one client in eight", "новикова"),
    ("company and number, two words", "Ромашка 4242"),
    ("part of an e-mail", "client4242@"),
    ("part of a phone", "004-24"),
    ("part of an INN", "0004242"),
    ("whole e-mail (exact path)", "client4242@bench.example"),
    ("whole INN (exact path)", "7700004242"),
    ("invoice number (exact path)", "B-8484"),
    ("nothing matches", "Жёлудь"),
)


def _server_url() -> str:
    import os

    from portal.testing.databases import DEFAULT_POSTGRES_URL

    return os.environ.get("PORTAL_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def _database(reseed: bool) -> str:
    server = make_url(_server_url())
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if reseed:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        found = connection.scalar(text(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"))
        if not found:
            connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    engine.dispose()
    return server.set(database=DATABASE).render_as_string(hide_password=False)


def seed(clients: int) -> None:
    from portal.core.extensions import db

    t = db.metadata.tables
    insert_series(
        t["client"],
        clients,
        {
            "first_name": f"({FIRST})[i % 8 + 1]",
            "last_name": f"({LAST})[(i / 8) % 8 + 1]",
            **CLIENT_LOGIN,
            "company": "CASE WHEN i % 3 = 0 THEN 'ООО «Ромашка ' || i || '»' ELSE '' END",
            "phone": "'+7 (495) ' || substr(lpad(i::text, 7, '0'), 1, 3) || '-' || "
            "substr(lpad(i::text, 7, '0'), 4, 2) || '-' || substr(lpad(i::text, 7, '0'), 6, 2)",
            "inn": "(7700000000 + i)::text",
            "created_at": "TIMESTAMPTZ '2023-12-01 00:00+00' + (i * INTERVAL '15 minutes')",
        },
    )
    insert_series(
        t["invoice"],
        clients * 2,
        {
            "client_id": f"((i - 1) % {clients}) + 1",
            "status": "'unpaid'",
            "number": "'B-' || i",
            "currency": "'RUB'",
            "issue_date": "DATE '2026-01-01'",
            "due_date": "DATE '2026-01-11'",
            "subtotal": "1000",
            "tax": "0",
            "total": "1000",
            "amount_paid": "0",
            "buyer": "'{}'::json",
            "created_at": "now()",
        },
    )
    db.session.commit()


def _median_ms(run) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure() -> list[tuple[str, str, float, int, str]]:
    from portal.accounts.models import Client
    from portal.core.extensions import db
    from portal.platform import search

    rows = []
    for label, query in QUERIES:
        condition = search.client_condition(search.parse(query))
        stmt = select(Client.id).where(condition)
        page = stmt.order_by(Client.id.desc()).limit(50)

        def run() -> int:
            # the exact paths' look-ups are part of the search's cost: build it anew each time
            matching = select(Client.id).where(search.client_condition(search.parse(query)))  # noqa: B023
            db.session.scalars(matching.order_by(Client.id.desc()).limit(50)).all()
            return db.session.scalar(select(func.count()).select_from(matching.subquery())) or 0

        found = run()
        scans: set[str] = set()
        for shown in (page, select(func.count()).select_from(stmt.subquery())):
            sql = str(shown.compile(db.engine, compile_kwargs={"literal_binds": True}))
            for line in db.session.scalars(text(f"EXPLAIN {sql}")):
                if hit := re.search(r"Index (?:Only )?Scan (?:Backward )?(?:using|on) (\w+)", line):
                    scans.add(hit[1])
                elif "Seq Scan" in line:
                    scans.add("Seq Scan")
        rows.append((label, query, _median_ms(run), found, ", ".join(sorted(scans))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reseed", action="store_true", help="drop the kept database first")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    args = parser.parse_args()

    from portal.core.app import create_app
    from portal.core.clock import FrozenClock
    from portal.core.extensions import db
    from portal.platform.plugin_migrations import upgrade_all

    url = _database(args.reseed)
    with tempfile.TemporaryDirectory() as tmp:
        now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
        app = create_app({"database_url": url, "secret_key": "bench"}, clock=FrozenClock(now),
                         instance_path=tmp)  # fmt: skip
        with app.app_context(), app.test_request_context():
            upgrade_all()
            db.session.remove()
            if not db.session.scalar(text("SELECT count(*) FROM client")):
                started = time.perf_counter()
                seed(args.clients)
                db.session.commit()
                engine = create_engine(url, isolation_level="AUTOCOMMIT")
                with engine.connect() as connection:
                    connection.execute(text("VACUUM ANALYZE"))
                engine.dispose()
                print(f"seeded {args.clients} clients in {time.perf_counter() - started:.0f} s")
            total = db.session.scalar(text("SELECT count(*) FROM client"))
            with_indexes = measure()
            db.session.commit()
            trigram = db.session.scalars(
                text("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%'")
            ).all()
            for name in trigram:
                db.session.execute(text(f'DROP INDEX "{name}"'))
            without = measure()
            db.session.rollback()  # the indexes are back
    print(f"admin client search, {total} clients, median of {RUNS} (count + first page of 50)")
    print(f"{'query':<34} {'found':>6} {'trigram ms':>11} {'without ms':>11}  plan with indexes")
    for (label, _query, fast, found, scans), (*_, slow, _found, _scans) in zip(
        with_indexes, without, strict=True
    ):
        print(f"{label:<34} {found:>6} {fast:>11.1f} {slow:>11.1f}  {scans}")


if __name__ == "__main__":
    main()
