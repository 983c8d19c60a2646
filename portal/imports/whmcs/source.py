"""Reading a WHMCS 8.x database (MySQL or MariaDB) through SQLAlchemy and PyMySQL.

Rows are streamed with a server-side cursor (``stream_results``), a batch at a time, so a table
of a million invoices never sits in memory. Values arrive as the portal wants them:

- ``decimal(16,2)`` columns as :class:`~decimal.Decimal` (PyMySQL's own conversion, kept);
- WHMCS's "no date" ``0000-00-00`` / ``0000-00-00 00:00:00`` as None (converters below: PyMySQL
  would hand back the string);
- text decoded from the connection charset ``utf8mb4`` (added to the URL when it names none);
  a column stored as ``latin1`` that holds UTF-8 bytes (old WHMCS installs written through a
  latin1 connection) is repaired when its bytes decode as UTF-8, and left as it is otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from pymysql.constants import FIELD_TYPE
from pymysql.converters import conversions, convert_date, convert_datetime
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

#: Rows fetched from the server per round trip while streaming.
BATCH = 1000

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?$")


def _name(identifier: str) -> str:
    """A table or column name (``alias.column`` too) for the SQL text: the steps' own
    constants, checked anyway."""
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"not a WHMCS table or column name: {identifier!r}")
    return ".".join(f"`{part}`" for part in identifier.split("."))


def _date_or_none(value: str | bytes) -> date | None:
    converted = convert_date(value)
    return converted if isinstance(converted, date) else None


def _datetime_or_none(value: str | bytes) -> datetime | date | None:
    converted = convert_datetime(value)
    return converted if isinstance(converted, datetime | date) else None


def _converters() -> dict[Any, Any]:
    conv = dict(conversions)
    conv[FIELD_TYPE.DATE] = _date_or_none
    conv[FIELD_TYPE.NEWDATE] = _date_or_none
    conv[FIELD_TYPE.DATETIME] = _datetime_or_none
    conv[FIELD_TYPE.TIMESTAMP] = _datetime_or_none
    return conv


def _latin1_bytes(value: str) -> bytes:
    """The bytes behind MySQL's ``latin1`` text: that charset is Windows-1252, with the five
    bytes cp1252 leaves undefined passed through as U+0081 and the like."""
    out = bytearray()
    for char in value:
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            if ord(char) > 0xFF:
                raise
            out.append(ord(char))
    return bytes(out)


def _repair_latin1(value: str) -> str:
    """UTF-8 bytes that went through a latin1 connection into a latin1 column come back as
    'Ð˜ÐÐ'; re-reading their bytes as UTF-8 gives 'ИНН'. Text that is not such mojibake (a
    real 'Café') does not decode and is kept."""
    if value.isascii():
        return value
    try:
        return _latin1_bytes(value).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def source_engine(url: str) -> Engine:
    parsed = make_url(url)
    if "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    engine = create_engine(parsed, connect_args={"conv": _converters()}, pool_pre_ping=True)
    event.listen(engine, "connect", _patient_session)
    return engine


def _patient_session(dbapi_connection: Any, _record: Any) -> None:
    """A streamed table waits on the server while the portal writes a batch: the server must
    not give up on the connection meanwhile (its default is 60 seconds)."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET SESSION net_write_timeout = 3600, net_read_timeout = 3600")


class WhmcsSource:
    """One WHMCS database, read only."""

    def __init__(self, url: str) -> None:
        self.engine = source_engine(url)
        self._latin1: dict[str, set[str]] | None = None

    def close(self) -> None:
        self.engine.dispose()

    def tables(self) -> set[str]:
        with self.engine.connect() as connection:
            return {row[0] for row in connection.execute(text("SHOW TABLES"))}

    def _latin1_columns(self, table: str) -> set[str]:
        if self._latin1 is None:
            query = text(
                "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND CHARACTER_SET_NAME = 'latin1'"
            )
            found: dict[str, set[str]] = {}
            with self.engine.connect() as connection:
                for table_name, column in connection.execute(query):
                    found.setdefault(table_name, set()).add(column)
            self._latin1 = found
        return self._latin1.get(table, set())

    @staticmethod
    def _where(
        since: date | None, changed: Sequence[str], also: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """``changed`` columns on or after ``since``, or the step's own condition ``also``
        (SQL using ``:since``: e.g. a client whose ИНН custom value changed)."""
        if since is None or not changed:
            return "", {}
        conditions = [f"{_name(column)} >= :since" for column in changed]
        if also:
            conditions.append(f"({also})")
        return f" WHERE ({' OR '.join(conditions)})", {"since": since}

    def count(
        self,
        table: str,
        *,
        since: date | None = None,
        changed: Sequence[str] = (),
        select: str | None = None,
        also: str | None = None,
    ) -> int:
        where, params = self._where(since, changed, also)
        if select is not None:
            sql = text(f"SELECT COUNT(*) FROM ({select}{where}) AS counted")  # noqa: S608
        else:
            sql = text(f"SELECT COUNT(*) FROM {_name(table)}{where}")  # noqa: S608 (names checked)
        with self.engine.connect() as connection:
            return int(connection.execute(sql, params).scalar_one())

    def rows(
        self,
        table: str,
        *,
        since: date | None = None,
        changed: Sequence[str] = (),
        order_by: str | tuple[str, ...] = "id",
        select: str | None = None,
        also: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every row of ``table`` (or those whose ``changed`` columns are on or after ``since``),
        in ``order_by`` order, streamed. ``select`` replaces ``SELECT * FROM table`` (a join
        with the table a step needs beside it; the repair of latin1 text covers ``table``'s
        columns)."""
        where, params = self._where(since, changed, also)
        repair = self._latin1_columns(table)
        base = select if select is not None else f"SELECT * FROM {_name(table)}"  # noqa: S608
        columns = (order_by,) if isinstance(order_by, str) else order_by
        sql = text(f"{base}{where} ORDER BY {', '.join(_name(column) for column in columns)}")
        with self.engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
                sql, params
            )
            for row in result.mappings():
                values = dict(row)
                for column in repair:
                    if isinstance(values.get(column), str):
                        values[column] = _repair_latin1(values[column])
                yield values

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """A small query read whole (lookups, sums): never a whole large table."""
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(text(sql), params).mappings()]

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()
