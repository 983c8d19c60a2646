"""Benchmark of the MRR, churn, cohort and renewal reports over a year, against the floor of a
raw ``SELECT count(*)`` of the services.

Usage: ``python bench/reports_mrr.py [CLIENTS] [--postgres]`` (default 100 000 clients with two
services each; SQLite in a temporary file unless ``--postgres``, which uses a fresh database on
the server of ``PORTAL_TEST_POSTGRES_URL`` or 127.0.0.1:5432).

The seed (not timed) spreads registrations over two years on monthly, quarterly and annual
cycles, terminates one service in ten, gives one in twenty an applied plan change and one in
twenty an add-on, and bills twelve monthly periods of a quarter of the services. Each report is
run once for the twelve months before today; the times are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text

TODAY = date(2026, 11, 28)
STEP = 5000


def _batches(rows: list[dict], model: object) -> None:
    from portal.core.extensions import db

    for first in range(0, len(rows), STEP):
        db.session.execute(insert(model), rows[first : first + STEP])


def seed(clients: int) -> None:
    from portal.accounts.models import Client
    from portal.catalog.models import Addon, Product, ProductGroup, ProductPrice
    from portal.core.extensions import db
    from portal.invoicing.models import BilledPeriod
    from portal.orders.models import Order, Service, ServiceAddon, ServiceChange

    group = ProductGroup(name="Облако")
    cycles = ("monthly", "quarterly", "annual")
    products = []
    for index, cycle in enumerate(cycles):
        product = Product(group=group, name=f"Тариф {index}")
        product.prices.append(ProductPrice(currency="RUB", cycle=cycle, price=Decimal(990)))
        products.append(product)
        db.session.add(product)
    addon = Addon(name="Резервные копии")
    db.session.add(addon)
    db.session.commit()
    now = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    _batches(
        [
            {
                "email": f"c{i}@bench.example",
                "password_hash": "x",
                "session_token": f"t{i}",
                "first_name": f"Клиент {i}",
                "created_at": now,
            }
            for i in range(clients)
        ],
        Client,
    )
    db.session.commit()
    ids = list(db.session.scalars(select(Client.id).order_by(Client.id)))
    start = TODAY - timedelta(days=730)
    services = []
    for n, client_id in enumerate(ids):
        for k in range(2):
            number = 2 * n + k
            product = products[number % 3]
            registered = start + timedelta(days=(number * 7919) % 720)
            ended = number % 10 == 0
            services.append(
                {
                    "client_id": client_id,
                    "product_id": product.id,
                    "status": "terminated" if ended else "active",
                    "cycle": cycles[number % 3],
                    "currency": "RUB",
                    "registration_date": registered,
                    "next_due_date": TODAY + timedelta(days=number % 60),
                    "period_start": TODAY - timedelta(days=30 - number % 30),
                    "recurring_amount": Decimal(990 + number % 500),
                    "terminated_at": (
                        datetime.combine(registered + timedelta(days=200), datetime.min.time(), UTC)
                        if ended
                        else None
                    ),
                    "created_at": now,
                }
            )
    _batches(services, Service)
    db.session.commit()
    rows = db.session.execute(
        select(Service.id, Service.client_id, Service.product_id, Service.registration_date)
    ).all()
    db.session.execute(
        insert(Order),
        [{"client_id": 1, "currency": "RUB", "kind": "change", "created_at": now}],
    )
    order_id = db.session.scalar(select(func.max(Order.id)))
    changes, addons, billed = [], [], []
    for service_id, client_id, product_id, registered in rows:
        if service_id % 20 == 0:
            changes.append(
                {
                    "service_id": service_id,
                    "client_id": client_id,
                    "order_id": order_id,
                    "status": "applied",
                    "change_date": registered + timedelta(days=90),
                    "old_product_id": product_id,
                    "new_product_id": product_id,
                    "old_cycle": "monthly",
                    "new_cycle": "monthly",
                    "old_price": Decimal(500),
                    "new_price": Decimal(990),
                    "day_count": "actual",
                    "days_used": 0,
                    "days_remaining": 0,
                    "days_total": 30,
                    "credit": Decimal(0),
                    "charge": Decimal(0),
                    "difference": Decimal(0),
                    "total": Decimal(0),
                    "applied_at": datetime.combine(
                        registered + timedelta(days=90), datetime.min.time(), UTC
                    ),
                    "created_at": now,
                }
            )
        if service_id % 20 == 1:
            addons.append(
                {
                    "service_id": service_id,
                    "addon_id": addon.id,
                    "status": "active",
                    "recurring_amount": Decimal(150),
                    "registration_date": registered,
                    "created_at": now,
                }
            )
        if service_id % 4 == 0:
            for month in range(12):
                period_start = date(2025, 12, 1) + timedelta(days=30 * month)
                billed.append(
                    {
                        "service_id": service_id,
                        "period_start": period_start,
                        "period_end": period_start + timedelta(days=30),
                        "created_at": now,
                    }
                )
    _batches(changes, ServiceChange)
    _batches(addons, ServiceAddon)
    _batches(billed, BilledPeriod)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clients", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    import os

    os.environ["PORTAL_TEST_DATABASE"] = "postgres" if args.postgres else "sqlite"
    from portal.core.app import create_app
    from portal.core.clock import FrozenClock
    from portal.core.extensions import db
    from portal.platform.plugin_migrations import upgrade_all
    from portal.reports import churn, cohorts, mrr, renewals
    from portal.testing.databases import fresh_database

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(fresh_database(tmp))
        clock = FrozenClock(datetime(2026, 11, 28, 6, 0, tzinfo=UTC))
        app = create_app({"database_url": url, "secret_key": "bench"}, clock=clock)
        stack.enter_context(app.app_context())
        stack.enter_context(app.test_request_context())
        upgrade_all()
        db.session.remove()
        seeding = time.perf_counter()
        seed(args.clients)
        if args.postgres:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        seeded = time.perf_counter() - seeding
        started = time.perf_counter()
        services = db.session.scalar(text("SELECT count(*) FROM service"))
        floor = time.perf_counter() - started
        database = "PostgreSQL" if args.postgres else "SQLite"
        print(f"reports, {database}, {args.clients} clients, {services} services")
        print(f"  seed                         {seeded:8.2f} s (not a report)")
        print(f"  floor: count(*) of services  {floor:8.3f} s")
        year = {"since": date(2025, 12, 1), "until": TODAY, "currency": "RUB"}
        timings = [
            ("mrr_by_currency (one day)", lambda: mrr.mrr_by_currency(TODAY)),
            ("mrr_series (12 months)", lambda: mrr.mrr_series(date(2025, 12, 1), 12, "RUB")),
            ("MRR and ARR report", lambda: mrr.MrrReport().run(year)),
            ("Churn report", lambda: churn.ChurnReport().run(year)),
            ("Cohort retention report", lambda: cohorts.CohortReport().run(year)),
            ("Renewals due (30 days)", lambda: renewals.RenewalsReport().run({"days": 30})),
            ("Renewal rate report", lambda: renewals.RenewalRateReport().run(year)),
        ]
        for name, run in timings:
            started = time.perf_counter()
            run()
            print(f"  {name:28} {time.perf_counter() - started:8.2f} s")
            db.session.rollback()


if __name__ == "__main__":
    main()
