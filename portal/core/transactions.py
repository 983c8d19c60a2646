"""Savepoints that mean the same on SQLite as on PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from portal.core.extensions import db


@contextmanager
def savepoint() -> Iterator[None]:
    """``db.session.begin_nested()``, with the enclosing transaction begun first on SQLite.

    Python's sqlite3 begins a transaction only before an INSERT, UPDATE or DELETE. A SAVEPOINT
    issued before any of those starts a transaction of its own, and its RELEASE commits it: the
    caller's later rollback, or a crash, would no longer undo what the savepoint wrote (a
    payment without its allocations). Rolling back to the savepoint on an error is unchanged.
    """
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    if isinstance(raw, sqlite3.Connection) and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN")
    with db.session.begin_nested():
        yield
