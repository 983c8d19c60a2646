"""Benchmark of the core reports on data of real size, each next to the floor of a raw count.

Usage: ``python bench/reports.py [--reseed] [--clients N] [--only income,vat]``
(``make bench-reports``). PostgreSQL only: the database ``portal_bench_reports`` on the server of
``PORTAL_TEST_POSTGRES_URL`` (default 127.0.0.1:5432) is kept between runs and seeded once;
``--reseed`` drops it first; ``--only`` times the named reports alone. A database whose
migrations no longer match (a revision renamed) is rebuilt by itself.

The seed (not measured) is ``bench/large_data.py``'s (shared with ``bench/pages.py``). Every
report registered in ``portal/reports/`` (found through the report registry, so reports added
later are timed too) then runs for the year before 1 December 2026, and each time is printed next to
``SELECT count(*)`` of the table it reads most; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import large_data
from sqlalchemy import text

DATABASE = "portal_bench_reports"
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
YEAR = (date(2025, 12, 1), date(2026, 11, 30))
#: The table a report reads most, for the floor; others by the name's first word, else invoice.
FLOOR_TABLES = {
    "debtors": "invoice",
    "income": "payment",
    "income_forecast": "service",
    "promotions": "sales_order",
    "sales": "sales_order",
    "support": "ticket",
    "top_clients": "payment",
    "vat": "invoice_line",
    "mrr": "service",
    "churn": "service",
    "cohorts": "service",
    "renewals": "service",
}


# --- timing --------------------------------------------------------------------------------------


def _variants(report: Any) -> list[tuple[str, dict[str, Any]]]:
    """The report's default filter values, with the year as the period where it has one; a
    report with a "group by" choice is timed once per grouping (``income/day``, ...)."""
    values: dict[str, Any] = {}
    groupings: list[str] = []
    if report.filters is not None:
        form = report.filters(formdata=None, meta={"csrf": False})
        values = dict(form.data)
        if "group_by" in form:
            groupings = [str(choice[0]) for choice in form["group_by"].choices]
    for key, day in (("since", YEAR[0]), ("until", YEAR[1]), ("as_of", YEAR[1])):
        if key in values or key in ("since", "until"):
            values[key] = day
    if not groupings:
        return [(report.name, values)]
    return [(f"{report.name}/{g}", {**values, "group_by": g}) for g in groupings]


def _timed(function: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def measure(only: set[str]) -> None:
    from portal.core.extensions import db
    from portal.platform.report_registry import registered

    core = {
        name: report
        for name, report in registered().items()
        if type(report).__module__.startswith(("portal.reports", "portal.support"))
        and (not only or name in only)
    }
    print(f"{'report':<24} {'first, s':>9} {'again, s':>9} {'rows':>6}   floor: count(*) of  s")
    for name, report in sorted(core.items()):
        table = FLOOR_TABLES.get(name) or FLOOR_TABLES.get(name.split("_")[0], "invoice")
        floor, _count = _timed(lambda t=table: db.session.scalar(text(f"SELECT count(*) FROM {t}")))
        for label, values in _variants(report):
            first, result = _timed(lambda r=report, v=values: r.run(v))
            again, _result = _timed(lambda r=report, v=values: r.run(v))
            db.session.rollback()
            rows = len(result.rows) if result is not None else 0
            print(f"{label:<24} {first:9.2f} {again:9.2f} {rows:6d}   {table:<18} {floor:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reseed", action="store_true", help="drop the kept database first")
    parser.add_argument("--clients", type=int, default=large_data.CLIENTS, help="scales everything")
    parser.add_argument("--only", default="", help="comma-separated report names to time")
    args = parser.parse_args()
    os.environ["PORTAL_TEST_DATABASE"] = "postgres"

    from portal.core.app import create_app
    from portal.core.clock import FrozenClock

    def app_factory(url: str) -> Any:
        return create_app({"database_url": url, "secret_key": "bench"}, clock=FrozenClock(NOW),
                          instance_path=tmp)  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        app = large_data.prepare(DATABASE, app_factory, clients=args.clients, reseed=args.reseed)
        with app.app_context(), app.test_request_context():
            measure({name for name in args.only.split(",") if name})


if __name__ == "__main__":
    main()
