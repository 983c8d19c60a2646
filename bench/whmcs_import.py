"""Benchmark of ``portal import whmcs``: a WHMCS-shaped MariaDB database of 10 000 clients and
100 000 invoices imported into a fresh portal database.

Usage: ``python bench/whmcs_import.py [--clients N] [--invoices M] [--sqlite]`` (make
bench-whmcs). The source is a fresh database on the MariaDB server of
``PORTAL_TEST_MARIADB_URL`` (or root@127.0.0.1:3306), filled with multi-row INSERTs: clients
(one in ten paying in USD), a service each, invoices with a line each (paid, unpaid, cancelled,
refunded), their payments with fees, refunds, and credit. The target is a fresh PostgreSQL
database on the server of ``PORTAL_TEST_POSTGRES_URL`` (or 127.0.0.1:5432), or an SQLite file
with ``--sqlite``. Prints the seconds and rows per second of each import step and of the whole
import, and whether the sums per currency match; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SCHEMA = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "whmcs" / "schema.sql"
START = date(2024, 1, 1)
PRICE = Decimal("1000.00")
TAX = Decimal("200.00")


def _insert(cursor: Any, table: str, columns: str, rows: list[tuple]) -> None:
    """PyMySQL turns an executemany of an INSERT ... VALUES into multi-row INSERTs."""
    marks = ", ".join(["%s"] * len(rows[0]))
    for first in range(0, len(rows), 20_000):
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",
            rows[first : first + 20_000],
        )


def generate(url: str, clients: int, invoices: int) -> dict[str, int]:
    """Fill the WHMCS database; returns the rows per table."""
    import pymysql
    from sqlalchemy.engine import make_url

    from portal.testing.mariadb import load_sql

    load_sql(url, SCHEMA)
    parsed = make_url(url)
    connection = pymysql.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=parsed.database,
        charset="utf8mb4",
        autocommit=False,
    )
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'")
        _insert(
            cursor,
            "tblcurrencies",
            "id, code, prefix, suffix, format, rate, `default`",
            [(1, "RUB", "", " ₽", 2, Decimal("1"), 1), (2, "USD", "$", "", 1, Decimal("0.011"), 0)],
        )
        _insert(
            cursor,
            "tblproductgroups",
            "id, name, orderfrmtpl, disabledgateways, hidden",
            [(1, "1С в облаке", "", "", 0)],
        )
        _insert(
            cursor,
            "tblproducts",
            "id, type, gid, name, description, paytype, servertype",
            [(1, "other", 1, "1С:Бухгалтерия", "", "recurring", "")],
        )
        _insert(
            cursor,
            "tblpricing",
            "type, currency, relid, msetupfee, qsetupfee, ssetupfee, asetupfee, bsetupfee, "
            "tsetupfee, monthly, quarterly, semiannually, annually, biennially, triennially",
            [
                ("product", 1, 1, 0, 0, 0, 0, 0, 0, PRICE, 2850, -1, 11000, -1, -1),
                ("product", 2, 1, 0, 0, 0, 0, 0, 0, 12, -1, -1, 130, -1, -1),
            ],
        )
        credit_of = {
            n: Decimal("500.00") if n % 10 == 3 else Decimal(0) for n in range(1, clients + 1)
        }
        _insert(
            cursor,
            "tblclients",
            "id, firstname, lastname, companyname, email, password, currency, credit, "
            "datecreated, status, language, created_at, updated_at",
            [
                (
                    n,
                    f"Клиент{n}",
                    "Бенчмарков",
                    f"ООО «Бенч {n}»" if n % 2 else "",
                    f"client{n}@bench.example",
                    "",
                    2 if n % 10 == 0 else 1,
                    credit_of[n],
                    START,
                    "Active",
                    "russian",
                    datetime(2024, 1, 1, 9),
                    datetime(2024, 1, 1, 9),
                )
                for n in range(1, clients + 1)
            ],
        )
        _insert(
            cursor,
            "tblhosting",
            "id, userid, orderid, packageid, regdate, domain, paymentmethod, amount, "
            "billingcycle, nextduedate, nextinvoicedate, domainstatus, username, password, "
            "notes, subscriptionid, suspendreason, dedicatedip, assignedips, ns1, ns2",
            [
                (
                    n,
                    n,
                    0,
                    1,
                    START,
                    "",
                    "banktransfer",
                    PRICE,
                    "Monthly",
                    date(2026, 12, 1),
                    date(2026, 11, 24),
                    "Active",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                )
                for n in range(1, clients + 1)
            ],
        )
        invoice_rows, item_rows, payment_rows = [], [], []
        for n in range(1, invoices + 1):
            client = (n - 1) % clients + 1
            kind = n % 20  # 0-13 paid, 14-17 unpaid, 18 cancelled, 19 refunded
            status = (
                "Paid"
                if kind < 14
                else "Unpaid"
                if kind < 18
                else ("Cancelled" if kind == 18 else "Refunded")
            )
            issued = START + timedelta(days=n % 700)
            invoice_rows.append(
                (
                    n,
                    client,
                    "" if n % 3 else f"INV-{n:07d}",
                    issued,
                    issued + timedelta(days=7),
                    datetime.combine(issued, datetime.min.time()) if status == "Paid" else None,
                    PRICE,
                    0,
                    TAX,
                    0,
                    PRICE + TAX,
                    20,
                    0,
                    status,
                    "banktransfer",
                    "",
                )
            )
            item_rows.append(
                (
                    n,
                    client,
                    "Hosting",
                    client,
                    "1С:Бухгалтерия, месяц",
                    PRICE,
                    1,
                    issued,
                    "banktransfer",
                    "",
                )
            )
            if status in ("Paid", "Refunded"):
                paid_at = datetime.combine(issued, datetime.min.time()) + timedelta(hours=10)
                payment_rows.append(
                    (
                        client,
                        0,
                        "banktransfer",
                        paid_at,
                        "Invoice Payment",
                        PRICE + TAX,
                        Decimal("12.00"),
                        0,
                        f"PP-{n}",
                        n,
                        0,
                    )
                )
        _insert(
            cursor,
            "tblinvoices",
            "id, userid, invoicenum, date, duedate, datepaid, subtotal, credit, tax, tax2, total, "
            "taxrate, taxrate2, status, paymentmethod, notes",
            [
                row if row[5] is not None else (*row[:5], "0000-00-00 00:00:00", *row[6:])
                for row in invoice_rows
            ],
        )
        _insert(
            cursor,
            "tblinvoiceitems",
            "invoiceid, userid, type, relid, description, amount, taxed, duedate, paymentmethod, "
            "notes",
            item_rows,
        )
        columns = (
            "userid, currency, gateway, date, description, amountin, fees, amountout, transid, "
            "invoiceid, refundid"
        )
        _insert(cursor, "tblaccounts", columns, payment_rows)
        cursor.execute("SELECT id, userid, date, invoiceid FROM tblaccounts")
        refunds = [
            (
                userid,
                0,
                "banktransfer",
                paid + timedelta(days=1),
                "Refund",
                0,
                0,
                PRICE + TAX,
                f"RF-{invoice}",
                invoice,
                payment_id,
            )
            for payment_id, userid, paid, invoice in cursor.fetchall()
            if invoice % 20 == 19
        ]
        if refunds:
            _insert(cursor, "tblaccounts", columns, refunds)
        _insert(
            cursor,
            "tblcredit",
            "clientid, date, description, amount, relid",
            [(n, START, "Аванс", amount, 0) for n, amount in credit_of.items() if amount],
        )
        connection.commit()
        for table in (
            "tblclients",
            "tblhosting",
            "tblinvoices",
            "tblinvoiceitems",
            "tblaccounts",
            "tblcredit",
        ):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    connection.close()
    return counts


def timed_steps(timings: list[tuple[str, float, dict[str, int]]], report_of: dict) -> None:
    """Wrap every step's ``run`` to time it and note the rows it went through."""
    from portal.imports.whmcs.steps import step_modules

    for name, module in step_modules():
        original = module.run

        def run(ctx: Any, original: Any = original, name: str = name) -> None:
            before = {table: counts.total for table, counts in ctx.report.tables.items()}
            started = time.perf_counter()
            original(ctx)
            seconds = time.perf_counter() - started
            rows = {
                table: counts.total - before.get(table, 0)
                for table, counts in ctx.report.tables.items()
                if counts.total - before.get(table, 0)
            }
            timings.append((name, seconds, rows))
            report_of["report"] = ctx.report

        module.run = run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    os.environ["PORTAL_TEST_DATABASE"] = "sqlite" if args.sqlite else "postgres"

    from portal.core.app import create_app
    from portal.core.clock import FrozenClock
    from portal.core.extensions import db
    from portal.imports.whmcs.runner import import_whmcs
    from portal.platform.plugin_migrations import upgrade_all
    from portal.testing.databases import fresh_database
    from portal.testing.mariadb import fresh_mariadb

    with ExitStack() as stack:
        source = stack.enter_context(fresh_mariadb("whmcs_bench"))
        started = time.perf_counter()
        counts = generate(source, args.clients, args.invoices)
        print(
            f"WHMCS source generated in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{table} {number}" for table, number in counts.items())
        )
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(fresh_database(tmp))
        clock = FrozenClock(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
        app = create_app(
            {"database_url": url, "secret_key": "bench"}, clock=clock, instance_path=str(tmp)
        )
        stack.enter_context(app.app_context())
        upgrade_all()
        db.session.remove()

        timings: list[tuple[str, float, dict[str, int]]] = []
        report_of: dict = {}
        timed_steps(timings, report_of)
        started = time.perf_counter()
        report = import_whmcs(source)
        total_seconds = time.perf_counter() - started

        database = "SQLite" if args.sqlite else "PostgreSQL"
        print(
            f"portal import whmcs into {database}: {args.clients} clients, {args.invoices} invoices"
        )
        total_rows = 0
        for name, seconds, rows in timings:
            if not rows:
                continue
            number = sum(rows.values())
            total_rows += number
            tables = ", ".join(f"{table} {count}" for table, count in rows.items())
            print(f"  {name:<16} {seconds:8.2f} s {number / seconds:10.0f} rows/s   ({tables})")
        print(
            f"  {'total':<16} {total_seconds:8.2f} s {total_rows / total_seconds:10.0f} rows/s"
            f"   ({total_rows} source rows)"
        )
        mismatched = [line for line in report.sum_lines() if line[1] != line[2]]
        print(
            "  sums per currency: "
            + (
                "all match the source"
                if not mismatched
                else f"{len(mismatched)} differ: {mismatched}"
            )
        )
        if report.refusals:
            print(f"  refused: {len(report.refusals)} (first: {report.refusals[0]})")


if __name__ == "__main__":
    main()
