"""One label registry per enum: how a stored value (a contact role, a job status, a day-count
convention) reads to people, so a page never prints the key itself (docs/development.md,
"Labels of stored values").

A module that owns an enum registers its labels once (``register("contact_role", {...})``);
templates write ``{{ contact.roles|label('contact_role') }}``. The lazy labels of a registry
are resolved once per request, in the request's language, whatever the number of rows.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, g, has_request_context
from flask_babel import lazy_gettext as _l

_REGISTRY: dict[str, Mapping[Any, Any]] = {}


def _key(value: Any) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def register(kind: str, labels: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """Make ``labels`` (enum members or stored strings to lazy texts) the registry ``kind``;
    registering a kind again adds to it (a plugin's values). Returns ``labels``."""
    _REGISTRY[kind] = {**_REGISTRY.get(kind, {}), **labels}
    return labels


def labels_of(kind: str) -> dict[str, str]:
    """The registry ``kind`` as plain texts by stored value, resolved once per request."""
    cache: dict[str, dict[str, str]] | None = (
        g.setdefault("_enum_labels", {}) if has_request_context() else None
    )
    if cache is not None and kind in cache:
        return cache[kind]
    resolved = {_key(value): str(text) for value, text in _REGISTRY[kind].items()}
    if cache is not None:
        cache[kind] = resolved
    return resolved


def label(value: Any, kind: str) -> str:
    """The label of ``value`` (or of each item of a list, joined) in the registry ``kind``; a
    value the registry does not know is shown as it is stored."""
    if value is None or value == "":
        return ""
    texts = labels_of(kind)
    if isinstance(value, Iterable) and not isinstance(value, str | enum.Enum):
        return ", ".join(texts.get(_key(item), _key(item)) for item in value)
    return texts.get(_key(value), _key(value))


_STAFF_MARK = re.compile(r"staff #(\d+)")


def actor(value: str | None) -> str:
    """Who started a run or finished a task, as stored ("scheduler", "cli", "staff #3", a
    worker's ``host:pid``): a label, the staff member's name, or the worker as it is."""
    if not value:
        return ""
    known = labels_of("actor")
    if value in known:
        return known[value]
    match = _STAFF_MARK.fullmatch(value)
    if match:
        from portal.accounts.models import Staff
        from portal.core.extensions import db

        staff = db.session.get(Staff, int(match.group(1)))
        return staff.full_name if staff is not None else known["staff"]
    return value


register("actor", {"scheduler": _l("Scheduler"), "cli": _l("Command line"), "staff": _l("Staff")})


def client_language(client_id: int | None) -> str:
    """The language a client's letters and documents are written in (for ``lang="..."`` on
    the text of a letter shown to staff); "" when the client is unknown."""
    if client_id is None:
        return ""
    cache: dict[int, str] = g.setdefault("_client_languages", {})
    if client_id not in cache:
        from portal.accounts.models import Client
        from portal.core.extensions import db

        client = db.session.get(Client, client_id)
        cache[client_id] = client.language if client is not None else ""
    return cache[client_id]


def init_labels(app: Flask) -> None:
    app.add_template_filter(label, "label")
    app.add_template_filter(actor, "actor")
    app.add_template_filter(client_language, "client_language")
