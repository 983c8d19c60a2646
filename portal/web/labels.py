"""One label registry per enum: how a stored value (a contact role, a job status, a day-count
convention) reads to people, so a page never prints the key itself (docs/development.md,
"Labels of stored values").

A module that owns an enum registers its labels once (``register("contact_role", {...})``);
templates write ``{{ contact.roles|label('contact_role') }}``. The lazy labels of a registry
are resolved once per request, in the request's language, whatever the number of rows.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, g, has_request_context

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


def init_labels(app: Flask) -> None:
    app.add_template_filter(label, "label")
