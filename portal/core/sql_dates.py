"""SQL expressions the reports group by, written once for SQLite and PostgreSQL.

Reports aggregate in the database (GROUP BY), never by loading rows into Python; grouping by
month needs the month of a date or a timestamp as text, which the two databases spell
differently.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement


class year_month(FunctionElement[str]):
    """``'2026-11'`` for a DATE or a UTC timestamp column (the month a row belongs to)."""

    type = String()
    inherit_cache = True
    name = "year_month"


@compiles(year_month, "postgresql")
def _year_month_postgresql(element: year_month, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    argument = compiler.process(column, **kw)
    if getattr(column.type, "timezone", False):
        # Timestamps are kept in UTC; the month is the UTC one on both databases.
        argument = f"({argument} AT TIME ZONE 'UTC')"
    return f"to_char({argument}, 'YYYY-MM')"


@compiles(year_month, "sqlite")
def _year_month_sqlite(element: year_month, compiler: Any, **kw: Any) -> str:
    # SQLite keeps dates and timestamps as ISO text: "2026-11-05" and "2026-11-05 10:00:00".
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


def month_of(column: ColumnElement[Any]) -> year_month:
    return year_month(column)


class seconds_between(FunctionElement[float]):
    """Seconds from the first UTC timestamp to the second, as a float (durations to average:
    not money, so a float is fine)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    # Whole seconds: the "%s" of the ISO text SQLite keeps (julianday() would be inexact).
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER))"
