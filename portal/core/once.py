"""Recording that something was done once, under a unique key (DESIGN §5).

A job inserts its key row (a reminder sent, a late fee charged, a service suspended on a date)
in the transaction that does the work, with ``ON CONFLICT DO NOTHING``: if the row is new the
caller goes on, if another run (or another worker, right now) inserted it first the caller does
nothing. On PostgreSQL a concurrent insert of the same key waits for the first transaction and
then finds the conflict, so the work happens exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from portal.core.extensions import db


def record_once(model: type[Any], keys: Sequence[str], **values: Any) -> bool:
    """Insert a ``model`` row unless one with the same ``keys`` exists; True if inserted.

    Joins the caller's transaction.
    """
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(model.id)
    )
    return db.session.execute(stmt).scalar() is not None
