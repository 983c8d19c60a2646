"""The audit log API every service uses to say who changed what.

``record`` joins the caller's transaction: the entry is committed with the change it describes,
or rolled back with it, so the log never mentions a change that did not happen (nor misses one
that did). The actor and address come from the request being served: the signed-in staff member
in the admin area, the client in the client area, "system" outside requests (jobs, commands).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, func, select

from portal.accounts.models import ActorType, AuditEntry, Client, Staff
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.web.query_args import db_id

_MISSING = object()
_SCALARS = frozenset((str, int, float, bool, type(None)))


def _actor() -> tuple[ActorType, int | None, str, str]:
    """(type, id, name, ip) of whoever is behind the current request."""
    if not has_request_context():
        return ActorType.SYSTEM, None, "", ""
    ip = request.remote_addr or ""
    user = current_user._get_current_object()
    if isinstance(user, Staff):
        return ActorType.STAFF, user.id, user.full_name, ip
    if isinstance(user, Client):
        return ActorType.CLIENT, user.id, user.display_name, ip
    return ActorType.SYSTEM, None, "", ip


def entry(
    action: str,
    entity: str,
    entity_id: int | str,
    *,
    before: dict | None = None,
    after: dict | None = None,
    client_id: int | None = None,
    note: str = "",
    system: str | None = None,
) -> dict[str, Any]:
    """The column values of an entry by the current actor, now.

    ``system`` names an automatic process acting on its own (the billing run): the entry's actor
    is then the system under that name, whoever's request started the process. ``record`` adds
    one entry to the session; a bulk writer collects these and calls :func:`insert_entries`.
    """
    if system is None:
        actor_type, actor_id, actor_name, ip = _actor()
    else:
        actor_type, actor_id, actor_name, ip = ActorType.SYSTEM, None, system, ""
    return {
        "created_at": clock().now(),
        "actor_type": actor_type,
        "actor_id": actor_id,
        "actor_name": actor_name[:255],
        "ip": ip[:45],
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "client_id": client_id,
        "before": jsonable(before) if before is not None else None,
        "after": jsonable(after) if after is not None else None,
        "note": note,
    }


def record(action: str, entity: str, entity_id: int | str, **details: Any) -> AuditEntry:
    """Add an entry to the session without committing: it belongs to the caller's transaction.
    ``details`` are :func:`entry`'s: ``before``, ``after``, ``client_id``, ``note``."""
    return add(entry(action, entity, entity_id, **details))


def record_saved(
    action: str,
    entity: str,
    entity_id: int | str,
    before: dict | None,
    after: dict,
    **details: Any,
) -> None:
    """Log a save: ``<action>.create`` with every field when there was nothing ``before``,
    else ``<action>.update`` with only the fields that changed (nothing if none did)."""
    if before is None:
        record(f"{action}.create", entity, entity_id, after=after, **details)
        return
    changed_before, changed_after = diff(before, after)
    if changed_after:
        changes = {"before": changed_before, "after": changed_after}
        record(f"{action}.update", entity, entity_id, **changes, **details)


def add(values: Mapping[str, Any]) -> AuditEntry:
    """Add an entry built by :func:`entry` to the session (the caller's transaction)."""
    added = AuditEntry(**values)
    db.session.add(added)
    return added


def insert_entries(entries: Sequence[Mapping[str, Any]]) -> None:
    """Insert many entries built by :func:`entry` with one statement, in the caller's
    transaction (a billing run batch logs hundreds of issued invoices at once)."""
    if entries:
        db.session.execute(AuditEntry.__table__.insert(), list(entries))


def jsonable(value: Any) -> Any:
    """A JSON-safe copy: Decimal as an exact string, dates as ISO 8601, enums as their value."""
    if type(value) in _SCALARS:  # most values: a bulk writer snapshots thousands of rows
        return value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(item) for item in value), key=str)
    if isinstance(value, Iterable):
        return [jsonable(item) for item in value]
    return str(value)


def snapshot(obj: object, fields: Iterable[str]) -> dict:
    """The named attributes of ``obj`` as JSON-able values, for ``before``/``after``."""
    values = ((name, getattr(obj, name)) for name in fields)
    return {name: v if type(v) in _SCALARS else jsonable(v) for name, v in values}


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields whose value changed; a field missing on one side counts as None."""
    changed_before: dict = {}
    changed_after: dict = {}
    for name in [*before, *(name for name in after if name not in before)]:
        old, new = before.get(name, _MISSING), after.get(name, _MISSING)
        if old != new:
            changed_before[name] = None if old is _MISSING else old
            changed_after[name] = None if new is _MISSING else new
    return changed_before, changed_after


def search(
    *,
    actor: str = "",
    action: str = "",
    entity: str = "",
    entity_id: str = "",
    client_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[tuple[AuditEntry]]:
    """Entries matching the filters, newest first.

    ``actor`` matches the actor's name (case-insensitive) or ``staff:<id>``/``client:<id>``;
    ``action`` matches a whole action or a prefix ending with a dot (``client.``); ``until`` is
    exclusive.
    """
    stmt = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    actor = actor.strip()
    if actor:
        kind, _, number = actor.partition(":")
        if kind in {t.value for t in ActorType} and (actor_id := db_id(number)) is not None:
            stmt = stmt.where(
                AuditEntry.actor_type == ActorType(kind), AuditEntry.actor_id == actor_id
            )
        else:
            stmt = stmt.where(func.lower(AuditEntry.actor_name).contains(actor.lower()))
    action = action.strip()
    if action.endswith("."):
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    elif action:
        stmt = stmt.where(AuditEntry.action == action)
    if entity.strip():
        stmt = stmt.where(AuditEntry.entity == entity.strip())
    if entity_id.strip():
        stmt = stmt.where(AuditEntry.entity_id == entity_id.strip())
    if client_id is not None:
        stmt = stmt.where(AuditEntry.client_id == client_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.created_at < until)
    return stmt


def for_client(client_id: int, limit: int = 100) -> list[AuditEntry]:
    """The latest entries about one client, for the client card."""
    return list(db.session.scalars(search(client_id=client_id).limit(limit)))


def known_actions() -> list[str]:
    """Distinct actions in the log, for the filter's suggestions."""
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by("action")))
