"""Date arithmetic in SQL, written once for every database the portal runs on.

Reports aggregate in the database (GROUP BY), never by loading rows into Python; an average
time between two timestamps needs their difference in SQL, which each database spells its own
way. (Grouping by day, month or year is ``portal.reports.periods.bucket``.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class seconds_between(FunctionElement[float]):
    """Seconds from the first UTC timestamp to the second, as a float (durations to average:
    not money, so a float is fine)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


def _arguments(element: seconds_between, compiler: Any, **kw: Any) -> tuple[str, str]:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return start, end


@compiles(seconds_between)
def _seconds_between_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = _arguments(element, compiler, **kw)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    # Whole seconds of the ISO text SQLite keeps (julianday() would be inexact).
    start, end = _arguments(element, compiler, **kw)
    return f"(CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER))"


@compiles(seconds_between, "mysql")
@compiles(seconds_between, "mariadb")
def _seconds_between_mysql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = _arguments(element, compiler, **kw)
    return f"TIMESTAMPDIFF(SECOND, {start}, {end})"
