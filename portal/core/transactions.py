"""Transactions: one unit of work per service call, and savepoints that mean the same on SQLite
as on PostgreSQL (docs/development.md, "Transactions")."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Table, update

from portal.core.extensions import db

#: How many units of work are open in this context; only the outermost one commits.
_depth: ContextVar[int] = ContextVar("portal_unit_of_work_depth", default=0)


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit what the block (or the decorated service) wrote, or roll it all back on an error.

    Views never commit: the service they call is the unit of work. Use it as ``with
    unit_of_work():`` or as a decorator ``@unit_of_work()``. Units nest: a service that calls
    another service joins its caller's unit, and only the outermost one commits or rolls back,
    so two services called together commit together.
    """
    depth = _depth.get()
    token = _depth.set(depth + 1)
    try:
        yield
    except BaseException:
        if depth == 0:
            db.session.rollback()
        raise
    else:
        if depth == 0:
            db.session.commit()
    finally:
        _depth.reset(token)


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


def lock_row(table: Table, row_id: int) -> None:
    """Take ``row_id`` of ``table`` for this transaction before reading what depends on it: an
    update that changes nothing. PostgreSQL locks the row until the commit (the next one waits);
    SQLite starts the write transaction (one writer at a time), which a ``SELECT ... FOR
    UPDATE`` would not do there: it is silently no lock at all."""
    db.session.execute(update(table).where(table.c.id == row_id).values(id=table.c.id))


def holds_writes() -> bool:
    """Whether the session's transaction has written or locked a row, which another writer
    would wait for: on PostgreSQL it has a transaction id, on SQLite the write transaction has
    begun (Python's sqlite3 begins one only before the first write)."""
    session = db.session()
    if not session.in_transaction():
        return False
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    if isinstance(raw, sqlite3.Connection):
        return raw.in_transaction
    if connection.dialect.name == "postgresql":
        return connection.exec_driver_sql("SELECT txid_current_if_assigned()").scalar() is not None
    return True  # another engine: assume the worst


def end_read_transaction() -> None:
    """Before a long wait (a program, a remote system): end the session's transaction if it only
    read, so that no snapshot or lock is held while waiting (docs/development.md, "Transactions").

    A transaction that wrote, or objects changed and not yet written, cannot be ended here
    without committing someone's unit of work half-done: that is the caller's bug, and a
    RuntimeError says so instead of holding row locks for the whole wait.
    """
    session = db.session()
    if not session.in_transaction():
        return
    changed = any(session.is_modified(instance) for instance in session.dirty)
    if changed or session.new or session.deleted or holds_writes():
        raise RuntimeError(
            "a long wait inside a transaction that writes: commit first, or write after the "
            "wait (docs/development.md, Transactions)"
        )
    session.commit()  # writes nothing: only ends the transaction


def begin_writing() -> None:
    """Make the current transaction the writer before it reads what it will write over.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's one writer lock now (waiting up to the busy
    timeout), so nothing another process commits can change what the transaction reads before it
    writes; a plain BEGIN would still let it read rows that are stale by its first write.
    PostgreSQL: nothing, its rows are locked as they are read (``FOR UPDATE``, ``lock_row``).
    A transaction that has already written holds the lock and is left as it is.
    """
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    if isinstance(raw, sqlite3.Connection) and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
