"""SQL expressions the reports group by, written once for SQLite and PostgreSQL.

Reports aggregate in the database (GROUP BY), never by loading rows into Python; grouping by
month needs the month of a date or a timestamp as text, which the two databases spell
differently.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement


class year_month(FunctionElement[str]):  # noqa: N801 - reads as an SQL function
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
