"""Settings staff change in the admin area, stored in the ``setting`` table.

They take precedence over the file/environment configuration for the keys listed in
``RUNTIME_KEYS``; everything else (database URL, secret key) is deployment configuration.

Each process caches all of them (the table is a handful of small rows) and checks they are
current with one primary-key lookup per request: the ``settings_version`` row holds a token
that changes, in the same transaction, whenever a ``setting`` row is written through the ORM
(:func:`_bump_on_flush`, whoever writes it). A change made by any worker or host is therefore
seen on every worker's next request — no TTL, no staleness window. Outside requests (jobs,
commands) every read checks the token. The token is random rather than a counter so that
a restored backup or an emptied table can never bring back a value a process has cached.
Static files skip the check (:func:`portal.web.static_request.is_static_request`): the theme
of ``/theme/static`` comes from the cache as of that process's previous page.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from portal.accounts import audit
from portal.core.extensions import db
from portal.platform.models import Setting, SettingsVersion
from portal.web.static_request import is_static_request

_CACHE = "portal.runtime_settings"
_CHECKED = "portal.runtime_settings.token"  # in the WSGI environ: checked for this request
_UNCHECKED = object()  # the token may be None (no row yet), so absence needs its own marker


@dataclass(frozen=True)
class _Snapshot:
    token: str | None
    values: dict[str, Any] = field(default_factory=dict)


RUNTIME_KEYS = frozenset(
    {
        "theme",
        "plugins_enabled",  # staff's choices, portal.platform.plugins
        "require_two_factor",
        "client_editable_fields",
        "invoice_number_format",
        "credit_note_number_format",
        "invoice_due_days",
        "company",
        "tax_rates",
        "currencies",
        "invoice_days_before_due",
        "renewal_invoices_as_drafts",
        # reminders, late fees, suspension (portal.invoicing.dunning and .overdue)
        "reminder_days_before_due",
        "reminder_on_due",
        "overdue_reminder_days",
        "late_fee",
        "suspend_after_days",
        "suspension_warning_days",
        "terminate_after_days",
        "mail_retry",  # the outbox's retries and give-up time, portal.messaging.mail_settings
    }
)


def _stored_token() -> str | None:
    return db.session.scalar(select(SettingsVersion.token).where(SettingsVersion.id == 1))


def _current() -> dict[str, Any]:
    cached: _Snapshot | None = current_app.extensions.get(_CACHE)
    in_request = has_request_context()
    if (
        cached is not None
        and in_request
        and (is_static_request() or request.environ.get(_CHECKED, _UNCHECKED) == cached.token)
    ):
        return cached.values
    token = _stored_token()  # read before the values: at worst they are newer, then reloaded
    if cached is None or cached.token != token:
        rows = db.session.execute(select(Setting.key, Setting.value)).all()
        cached = _Snapshot(token, {key: value for key, value in rows})
        current_app.extensions[_CACHE] = cached
    if in_request:
        request.environ[_CHECKED] = token
    return cached.values


def get(key: str, default: Any = None) -> Any:
    """The stored value (a copy: callers may change it) or ``default``."""
    values = _current()
    return copy.deepcopy(values[key]) if key in values else default


def put(key: str, value: Any) -> None:
    """Store a runtime setting and commit; a change is written to the audit log."""
    if key not in RUNTIME_KEYS:
        raise KeyError(f"{key} is not a runtime setting")
    row = db.session.get(Setting, key)
    before = None if row is None else row.value
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    if before != value:
        audit.record("setting.update", "setting", key, before={key: before}, after={key: value})
    db.session.commit()


@event.listens_for(Session, "before_flush")
def _bump_on_flush(session: Session, flush_context: Any, instances: Any) -> None:
    """A new token whenever a ``setting`` row is added, changed or deleted, in its transaction."""
    touched = (*session.new, *session.dirty, *session.deleted)
    if not any(isinstance(obj, Setting) for obj in touched):
        return
    token = uuid.uuid4().hex
    connection = session.connection()
    changed = connection.execute(
        update(SettingsVersion).where(SettingsVersion.id == 1).values(token=token)
    )
    if changed.rowcount == 0:  # an emptied table (tests); the migration creates the row
        connection.execute(insert(SettingsVersion).values(id=1, token=token))
    if has_request_context():
        request.environ.pop(_CHECKED, None)  # this request's later reads see the change
