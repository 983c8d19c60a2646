"""Work queues with retries: claiming due rows so that one worker wins each, and the backoff.

Used by the e-mail outbox and the provisioning queue. A queue table has ``id``, ``attempts`` and
``next_attempt_at``. A worker *claims* due rows before working on them: for each candidate an
``UPDATE ... WHERE attempts = <what it read>`` moves ``attempts`` forward and ``next_attempt_at``
past a lease, and only the worker whose update changed the row goes on; the claims are committed
before any work starts. On PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``, so
several workers share a large queue instead of queueing behind each other's locks. A worker that
dies mid-work leaves the row claimed until its lease ends; then another worker takes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update

from portal.core.extensions import db


def backoff(attempts: int, base: timedelta, cap: timedelta) -> timedelta:
    """``base``, twice, four times ... ``base`` after the 1st, 2nd, 3rd failed attempt; at
    most ``cap``."""
    return min(base * (2 ** max(attempts - 1, 0)), cap)


def claim_due(
    model: type[Any],
    due: ColumnElement[bool],
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    claimed: Mapping[str, Any] | None = None,
) -> list[int]:
    """Ids of up to ``limit`` rows matching ``due`` that this worker won, oldest first.

    ``claimed`` are further values set on a won row (e.g. a "running" status). Commits.
    """
    stmt = (
        select(model.id, model.attempts)
        .where(due)
        .order_by(model.next_attempt_at, model.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    won = []
    for row_id, attempts in db.session.execute(stmt).all():
        result = db.session.execute(
            update(model)
            .where(model.id == row_id, model.attempts == attempts, due)
            .values(attempts=attempts + 1, next_attempt_at=now + lease, **(claimed or {}))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            won.append(row_id)
    db.session.commit()
    return won
