"""Bucketing dates by day, month or year inside the database, the same on every backend.

``bucket(Payment.payment_date, "month")`` is a SQL expression of type ``Date``: the first day of
the value's month (``date_trunc`` on PostgreSQL, ``date(x, 'start of month')`` on SQLite,
``DATE_FORMAT`` on MariaDB). Reports ``GROUP BY`` it and get ``date`` objects back on every
backend (SQLAlchemy's SQLite ``Date`` type parses the text SQLite returns).
"""

from __future__ import annotations

import enum
from datetime import date, timedelta
from typing import Any, ClassVar

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

from portal.platform.report_filters import add_months


class Grain(enum.StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class bucket(FunctionElement[date]):
    """The first day of the day/month/year ``expression`` (a date or a timestamp) falls in."""

    type = Date()
    inherit_cache = True
    name = "report_bucket"
    #: The grain is part of the statement's cache key: a month query's SQL is not a day's.
    _traverse_internals: ClassVar[list[Any]] = [
        *FunctionElement._traverse_internals,
        ("grain", InternalTraversal.dp_string),
    ]

    def __init__(self, expression: ColumnElement[Any], grain: Grain | str) -> None:
        self.grain = Grain(grain)
        super().__init__(expression)


def _argument(element: bucket, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(bucket)
def _generic(element: bucket, compiler: SQLCompiler, **kw: Any) -> str:
    argument = _argument(element, compiler, **kw)
    return f"CAST(date_trunc('{element.grain.value}', {argument}) AS DATE)"


@compiles(bucket, "sqlite")
def _sqlite(element: bucket, compiler: SQLCompiler, **kw: Any) -> str:
    argument = _argument(element, compiler, **kw)
    modifier = {Grain.DAY: "", Grain.MONTH: ", 'start of month'", Grain.YEAR: ", 'start of year'"}
    return f"date({argument}{modifier[element.grain]})"


@compiles(bucket, "mysql")
@compiles(bucket, "mariadb")
def _mysql(element: bucket, compiler: SQLCompiler, **kw: Any) -> str:
    argument = _argument(element, compiler, **kw)
    pattern = {Grain.DAY: "%%Y-%%m-%%d", Grain.MONTH: "%%Y-%%m-01", Grain.YEAR: "%%Y-01-01"}
    return f"CAST(DATE_FORMAT({argument}, '{pattern[element.grain]}') AS DATE)"


def bucket_start(day: date, grain: Grain | str) -> date:
    """What :class:`bucket` gives for ``day``, computed in Python."""
    grain = Grain(grain)
    if grain is Grain.YEAR:
        return date(day.year, 1, 1)
    if grain is Grain.MONTH:
        return day.replace(day=1)
    return day


def next_bucket(start: date, grain: Grain | str) -> date:
    grain = Grain(grain)
    if grain is Grain.YEAR:
        return date(start.year + 1, 1, 1)
    if grain is Grain.MONTH:
        return add_months(start, 1)
    return start + timedelta(days=1)


def buckets(first: date, last: date, grain: Grain | str) -> list[date]:
    """Every bucket's first day from ``first``'s bucket to ``last``'s, both included: the rows
    of a report by period, months without data included."""
    out, current = [], bucket_start(first, grain)
    while current <= last:
        out.append(current)
        current = next_bucket(current, grain)
    return out


def months(first_month: date, count: int) -> list[date]:
    """``count`` first-days-of-month from ``first_month``'s month on."""
    start = first_month.replace(day=1)
    return [add_months(start, n) for n in range(count)]
