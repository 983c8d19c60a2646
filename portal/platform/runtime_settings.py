"""Settings staff change in the admin area, stored in the ``setting`` table.

They take precedence over the file/environment configuration for the keys listed in
``RUNTIME_KEYS``; everything else (database URL, secret key) is deployment configuration.

Each process caches all of them (the table is a handful of small rows) and knows they are
current by a token: the ``settings_version`` row holds a token that changes, in the same
transaction, whenever a ``setting`` row is written through the ORM (:func:`_bump_on_flush`,
whoever writes it). The token is random rather than a counter so that a restored backup or an
emptied table can never bring back a value a process has cached. When the token is read
(docs/performance.md, "Runtime settings"):

* outside requests (jobs, commands): at every read;
* in a request that may write (any method but GET, HEAD and OPTIONS) and on every page of the
  admin area but its sign-in pages: once per request, so what staff save is on their next page
  whatever the worker, and a write uses the values as they are;
* on other pages (sign-in, the client area, plugin pages read with GET): at most once every
  ``settings_check_seconds`` (default 1) per process, so the sign-in page runs no query; a
  change made in another process or host reaches them at most that many seconds late
  (0: every request, as above). A change made in the same process is seen at once.

Static files skip the check (:func:`portal.web.static_request.is_static_request`): the theme
of ``/theme/static`` comes from the cache as of that process's previous page.
"""

from __future__ import annotations

import copy
import math
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Flask, current_app, has_app_context, has_request_context, request
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from portal.accounts import audit
from portal.core.extensions import db
from portal.platform.models import Setting, SettingsVersion
from portal.web.identity import Area, is_public_view, request_area
from portal.web.static_request import is_static_request

_CACHE = "portal.runtime_settings"
_CHECKED = "portal.runtime_settings.token"  # in the WSGI environ: checked for this request
_UNCHECKED = object()  # the token may be None (no row yet), so absence needs its own marker
_WRITING = "portal.runtime_settings.writing"  # in Session.info: the transaction that bumped
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The process's clock for the interval between two checks (a test moves it).
_monotonic = time.monotonic


@dataclass(frozen=True)
class _Snapshot:
    token: str | None
    values: dict[str, Any] = field(default_factory=dict)
    #: ``_monotonic()`` when the token was last found current outside a transaction that wrote
    #: settings; -inf: the next read checks.
    checked_at: float = -math.inf


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
    if cached is not None and in_request:
        if is_static_request() or request.environ.get(_CHECKED, _UNCHECKED) == cached.token:
            return cached.values
        if _checked_lately(cached):
            request.environ[_CHECKED] = cached.token
            return cached.values
    token = _stored_token()  # read before the values: at worst they are newer, then reloaded
    if cached is None or cached.token != token:
        rows = db.session.execute(select(Setting.key, Setting.value)).all()
        cached = _Snapshot(token, {key: value for key, value in rows})
    # Values read inside a transaction that changed settings may yet be rolled back: the
    # token (compared at the next check) says so, but the interval must not trust them.
    session = db.session()
    writing = session.info.get(_WRITING)
    if writing is None or writing is not session.get_transaction():
        cached = replace(cached, checked_at=_monotonic())
    current_app.extensions[_CACHE] = cached
    if in_request:
        request.environ[_CHECKED] = token
    return cached.values


def _checked_lately(cached: _Snapshot) -> bool:
    """May this request use a token checked by an earlier one (see the module's docstring)?"""
    interval = current_app.config["PORTAL"]["settings_check_seconds"]
    if interval <= 0 or request.method not in _SAFE_METHODS:
        return False
    if request_area() is Area.ADMIN and not is_public_view():  # staff, not their sign-in
        return False
    return _monotonic() - cached.checked_at < interval


def forget(app: Flask) -> None:
    """Drop ``app``'s cached settings: the next read loads them (tests empty the tables with
    plain SQL, which bumps no token)."""
    app.extensions.pop(_CACHE, None)


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
    session.info[_WRITING] = session.get_transaction()
    cached: _Snapshot | None = current_app.extensions.get(_CACHE) if has_app_context() else None
    if cached is not None:  # this process's next read checks, whatever the interval
        current_app.extensions[_CACHE] = replace(cached, checked_at=-math.inf)
    if has_request_context():
        request.environ.pop(_CHECKED, None)  # this request's later reads see the change
