"""Benchmark of CDR rating (the telephony plugin) against the floor of a raw COPY of the rows.

Usage: ``python bench/telephony_rating.py [N | --rows N] [--sqlite] [--profile]`` (N generated
CDRs, default 1 000 000; PostgreSQL in a fresh database on ``PORTAL_TEST_POSTGRES_URL`` or
127.0.0.1:5432 unless ``--sqlite``).

It seeds a tariff of 2 000 destinations with 20 000 prefixes and two dated rates each, 1 000
clients with a PBX service and a number each (half prepaid, with enough credit never to be
blocked; half postpaid with included minutes), and writes N Asterisk ``Master.csv`` rows to a
file (not measured). Then it runs ``portal_telephony.cdr_import.import_file`` on the file — the
same code as ``portal telephony import-cdrs`` — and times it, sampling the process's resident
memory every 0.2 s. The floor: the rated rows are copied out (every column, ``id`` included:
the same table width), the table emptied and committed, and the same rows loaded back into the
same table (its indexes and foreign keys) with one ``COPY ... FROM STDIN`` in text and in
binary format — no parsing, no rating, no debit; the faster of the two is the floor. Prints
CDR/s, the import's CPU seconds in this process, the ratio import / floor, the load average
(the machine is shared) and the RSS (before, at 10 %, peak and at the end of the import: flat
means the file is streamed); nothing is asserted. plugins/telephony/README.md, "Benchmark",
records the figures.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugins" / "telephony"))

from sqlalchemy import insert, select, text  # noqa: E402

CLIENTS = 1000
DESTINATIONS = 2000
PREFIXES_PER_DESTINATION = 10


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append(rss_mb())
            time.sleep(0.2)


def seed() -> list[str]:
    """The tariff, clients, services and numbers; returns the clients' numbers."""
    from portal_telephony.models import NumberCategory, PhoneNumber
    from portal_telephony.rating_models import (
        ClientTerms,
        Destination,
        IncludedMinutes,
        Prefix,
        Rate,
        Tariff,
    )

    from portal.accounts.models import Client
    from portal.catalog.models import Product, ProductGroup, ProductPrice
    from portal.core.extensions import db
    from portal.invoicing.models import CreditEntry
    from portal.orders.models import Service

    rng = random.Random(18)
    tariff = Tariff(
        name="Bench",
        currency="RUB",
        free_under=3,
        night_start="22:00",
        night_end="08:00",
        time_zone="Europe/Moscow",
        is_default=True,
    )
    db.session.add(tariff)
    db.session.flush()
    db.session.execute(
        insert(Destination),
        [
            {
                "tariff_id": tariff.id,
                "name": f"Dest {i}",
                "group_name": ("local", "mobile", "intl")[i % 3],
            }
            for i in range(DESTINATIONS)
        ],
    )
    ids = list(db.session.scalars(select(Destination.id).order_by(Destination.id)))
    prefixes, seen = [], set()
    for n, destination in enumerate(ids):
        base = "7" + f"{n:04d}"
        for k in range(PREFIXES_PER_DESTINATION):
            prefix = base + str(k) + ("" if k % 2 else str(rng.randrange(10)))
            if prefix not in seen:
                seen.add(prefix)
                prefixes.append({"destination_id": destination, "prefix": prefix})
    db.session.execute(insert(Prefix), prefixes)
    rates = []
    for destination in ids:
        for since, price in (
            (datetime(2026, 1, 1, tzinfo=UTC), "1.2000"),
            (datetime(2026, 11, 15, tzinfo=UTC), "1.3500"),
        ):
            rates.append(
                {
                    "destination_id": destination,
                    "effective_from": since,
                    "per_minute": Decimal(price),
                    "connect_fee": Decimal("0.10"),
                    "first_increment": (60, 1, 60, 30)[destination % 4],
                    "next_increment": (60, 1, 1, 30)[destination % 4],
                    "minimum_charge": Decimal(0),
                    "night_per_minute": Decimal("0.6000"),
                    "weekend_per_minute": None,
                }
            )
    db.session.execute(insert(Rate), rates)
    group = ProductGroup(name="Телефония")
    product = Product(group=group, name="АТС «Офис»", tax_inclusive=False, module="telephony")
    product.prices.append(ProductPrice(currency="RUB", cycle="monthly", price=Decimal("4500.00")))
    db.session.add(product)
    if db.session.get(NumberCategory, "ordinary") is None:  # the migration seeds it
        db.session.add(
            NumberCategory(
                code="ordinary",
                rank=0,
                connection_fee=Decimal("2200.00"),
                monthly_fee=Decimal("970.00"),
            )
        )
    db.session.flush()
    db.session.add(IncludedMinutes(product_id=product.id, minutes=300, groups="local"))
    now = datetime.now(UTC)
    db.session.execute(
        insert(Client),
        [
            {
                "email": f"pbx{i}@bench.example",
                "password_hash": "x",
                "session_token": f"t{i}",
                "first_name": f"Клиент {i}",
                "created_at": now,
            }
            for i in range(CLIENTS)
        ],
    )
    clients = list(db.session.scalars(select(Client.id).order_by(Client.id)))
    db.session.execute(
        insert(Service),
        [
            {
                "client_id": c,
                "product_id": product.id,
                "status": "active",
                "cycle": "monthly",
                "currency": "RUB",
                "registration_date": date(2026, 11, 1),
                "period_start": date(2026, 11, 1),
                "next_due_date": date(2026, 12, 1),
                "anchor_day": 1,
                "recurring_amount": Decimal("4500.00"),
                "created_at": now,
                "username": "",
            }
            for c in clients
        ],
    )
    services = {c: s for c, s in db.session.execute(select(Service.client_id, Service.id))}
    numbers = [f"7495{1000000 + i}" for i in range(CLIENTS)]
    db.session.execute(
        insert(PhoneNumber),
        [
            {
                "number": numbers[i],
                "category": "ordinary",
                "state": "assigned",
                "client_id": c,
                "service_id": services[c],
                "extension": "",
                "changed_at": now,
                "created_at": now,
            }
            for i, c in enumerate(clients)
        ],
    )
    db.session.execute(
        insert(ClientTerms),
        [
            {
                "client_id": c,
                "prepaid": i % 2 == 0,
                "tariff_id": tariff.id,
                "coefficient_recurring": Decimal(1),
                "coefficient_setup": Decimal(1),
                "coefficient_duration": Decimal("0.9500") if i % 5 == 0 else Decimal(1),
                "low_balance": Decimal("100.00"),
                "credit_limit": Decimal(0),
                "low_notified": False,
                "blocked": False,
                "crossings": 0,
            }
            for i, c in enumerate(clients)
        ],
    )
    db.session.execute(
        insert(CreditEntry),
        [
            {
                "client_id": c,
                "currency": "RUB",
                "amount": Decimal("100000000.00"),
                "reason": "manual",
                "description": "bench",
                "created_at": now,
            }
            for i, c in enumerate(clients)
            if i % 2 == 0
        ],
    )
    db.session.commit()
    return numbers, [p["prefix"] for p in prefixes]


def write_cdrs(path: Path, n: int, numbers: list[str], prefixes: list[str]) -> None:
    rng = random.Random(7)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            src = numbers[i % len(numbers)]
            prefix = prefixes[rng.randrange(len(prefixes))]
            dst = prefix + "".join(rng.choices("0123456789", k=11 - len(prefix)))
            begin = start + timedelta(seconds=i * 2)
            billsec = rng.randrange(0, 900)
            b = begin.strftime("%Y-%m-%d %H:%M:%S")
            e = (begin + timedelta(seconds=billsec)).strftime("%Y-%m-%d %H:%M:%S")
            out.write(
                f'"","{src}","{dst}","from-internal","<{src}>","SIP/100-{i:08x}","SIP/trunk",'
                f'"Dial","SIP/trunk/{dst}","{b}","{b}","{e}","{billsec + 4}","{billsec}",'
                f'"ANSWERED","DOCUMENTATION","{1764547200 + i}.{i}",""\n'
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, help="N, by name")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print the import's top functions")
    args = parser.parse_args()
    if args.rows:
        args.n = args.rows
    os.environ["PORTAL_TEST_DATABASE"] = "sqlite" if args.sqlite else "postgres"
    from portal.core.app import create_app
    from portal.core.clock import FrozenClock
    from portal.core.extensions import db
    from portal.platform.plugin_migrations import upgrade_all
    from portal.testing.databases import fresh_database

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(fresh_database(tmp))
        clock = FrozenClock(datetime(2026, 12, 4, 6, 0, tzinfo=UTC))
        settings = {"database_url": url, "secret_key": "bench", "plugins": ["telephony"]}
        app = create_app(settings, clock=clock, instance_path=str(tmp))
        stack.enter_context(app.app_context())
        upgrade_all()
        db.session.remove()
        numbers, prefixes = seed()
        path = tmp / "Master.csv"
        write_cdrs(path, args.n, numbers, prefixes)
        size_mb = path.stat().st_size / 2**20
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        from portal_telephony.cdr_import import import_file

        before = rss_mb()
        sampler = Sampler()
        sampler.start()
        load_before = os.getloadavg()[0]
        cpu = time.process_time()
        started = time.perf_counter()
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            stats = profiler.runcall(import_file, path, source="bench")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            ours = "portal_telephony|payments|balances|copy|session.py.*commit"
            pstats.Stats(profiler).sort_stats("cumtime").print_stats(ours, 30)
        else:
            stats = import_file(path, source="bench")
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        load_after = os.getloadavg()[0]
        sampler.stop.set()
        sampler.join()
        samples = sampler.samples or [before]
        database = "SQLite" if args.sqlite else "PostgreSQL"
        print(f"telephony rating, {database}, {args.n} CDRs ({size_mb:.0f} MB Master.csv)")
        print(
            f"  rated {stats.rated}, rejected {stats.rejected}, duplicates {stats.duplicates},"
            f" unanswered/zero {stats.unanswered}, charged {stats.charged} RUB"
        )
        print(
            f"  import {seconds:8.2f} s   {args.n / seconds:10.0f} CDR/s"
            f"   (CPU in this process {cpu:.2f} s, {cpu / args.n * 1e6:.1f} us/CDR)"
        )
        if not args.sqlite:
            import psycopg

            db.session.close()
            conninfo = db.engine.url.set(drivername="postgresql")
            floors = {}
            for kind in ("text", "binary"):
                options = " (FORMAT BINARY)" if kind == "binary" else ""
                with psycopg.connect(conninfo.render_as_string(hide_password=False)) as raw:
                    buffer = io.BytesIO()
                    with raw.cursor().copy(f"COPY telephony_call TO STDOUT{options}") as copy:
                        for chunk in copy:
                            buffer.write(chunk)
                    raw.execute("TRUNCATE telephony_call")
                    raw.commit()
                    started = time.perf_counter()  # the COPY and its commit, as each batch's
                    with raw.cursor().copy(f"COPY telephony_call FROM STDIN{options}") as copy:
                        copy.write(buffer.getvalue())
                    raw.commit()
                    floors[kind] = time.perf_counter() - started
                    del buffer
            floor = min(floors.values())
            print(
                f"  floor  {floor:8.2f} s   {stats.rated / floor:10.0f} rows/s"
                f" (raw COPY of the {stats.rated} rated rows, whole width; text"
                f" {floors['text']:.2f} s, binary {floors['binary']:.2f} s)"
            )
            print(f"  ratio  {seconds / floor:8.2f} x the floor")
        print(f"  load average {load_before:.1f} before the import, {load_after:.1f} after")
        tenth = samples[max(0, len(samples) // 10)]
        print(
            f"  RSS MB before {before:.0f}, at 10 % {tenth:.0f}, peak {max(samples):.0f},"
            f" end {samples[-1]:.0f}"
        )


if __name__ == "__main__":
    main()
