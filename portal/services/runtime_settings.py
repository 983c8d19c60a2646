"""Settings staff change in the admin area, stored in the ``setting`` table.

They take precedence over the file/environment configuration for the keys listed in
``RUNTIME_KEYS``; everything else (database URL, secret key) is deployment configuration.
"""

from __future__ import annotations

from typing import Any

from portal.extensions import db
from portal.models import Setting

RUNTIME_KEYS = frozenset({"theme"})


def get(key: str, default: Any = None) -> Any:
    row = db.session.get(Setting, key)
    return default if row is None else row.value


def put(key: str, value: Any) -> None:
    """Store a runtime setting and commit."""
    if key not in RUNTIME_KEYS:
        raise KeyError(f"{key} is not a runtime setting")
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    db.session.commit()
