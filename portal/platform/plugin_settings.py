"""Plugin settings and plugin product fields: read them, save them (audited), keep secrets
encrypted.

Plugins read their settings with :func:`get` (``get("diskspace")["command"]``) and the values of
their product fields with :func:`product_values`; staff edit both in the admin area. A secret
is stored as a Fernet token (portal.core.encryption) and written to the audit log only as
"changed"; a secret that cannot be decrypted any more (the secret key changed without a
fallback) reads as ``None`` until staff enter it again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from portal.accounts import audit
from portal.catalog.models import Product
from portal.core import encryption
from portal.core.app_state import plugins
from portal.core.extensions import db
from portal.platform.models import PluginSetting
from portal.platform.plugin_forms import PluginSettings, ProductFields

log = logging.getLogger(__name__)

#: What the audit log shows instead of a secret.
HIDDEN = "********"


def registered() -> dict[str, PluginSettings]:
    """Settings registered by loaded plugins, by plugin name (the first one wins)."""
    return plugins().by_name("register_settings", "plugin")


def registered_product_fields() -> dict[str, ProductFields]:
    """Product fields registered by loaded plugins, by plugin name (the first one wins)."""
    return plugins().by_name("register_product_fields", "plugin")


def jsonable(value: Any) -> Any:
    """A form value as JSON can hold it: Decimal as a string (exact), dates in ISO format."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def _rows(plugin: str) -> dict[str, PluginSetting]:
    query = select(PluginSetting).where(PluginSetting.plugin == plugin)
    return {row.key: row for row in db.session.scalars(query)}


def _read(row: PluginSetting) -> Any:
    if not row.encrypted:
        return row.value
    try:
        return encryption.decrypt(row.value)
    except encryption.SecretUnreadable:
        log.warning("setting %s.%s cannot be decrypted with the current key", row.plugin, row.key)
        return None


def get(plugin: str) -> dict[str, Any]:
    """The plugin's settings: its registered defaults, overridden by what staff saved, secrets
    decrypted."""
    registration = registered().get(plugin)
    values = dict(registration.defaults) if registration else {}
    values.update({key: _read(row) for key, row in _rows(plugin).items()})
    return values


def secrets_set(plugin: str) -> dict[str, bool]:
    """Which secrets have a readable stored value (the page says "set" without showing it)."""
    return {k: _read(row) is not None for k, row in _rows(plugin).items() if row.encrypted}


def _masked(values: Mapping[str, Any], secret: frozenset[str]) -> dict[str, Any]:
    return {k: (HIDDEN if k in secret and v is not None else v) for k, v in values.items()}


def save(plugin: str, values: Mapping[str, Any]) -> None:
    """Store ``values`` for ``plugin`` and commit; audited, secrets encrypted and masked. A secret
    given as ``None`` or ``""`` keeps its stored value (password fields are never pre-filled)."""
    registration = registered().get(plugin)
    secret = registration.secret_names if registration else frozenset()
    rows = _rows(plugin)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, raw in values.items():
        row = rows.get(key)
        if key in secret:
            if raw in (None, ""):
                continue
            if row is not None and _read(row) == raw:
                continue
            stored, encrypted = encryption.encrypt(str(raw)), True
        else:
            stored, encrypted = jsonable(raw), False
            if row is not None and not row.encrypted and row.value == stored:
                continue
        before[key] = None if row is None else _read(row)
        after[key] = raw
        if row is None:
            db.session.add(PluginSetting(plugin=plugin, key=key, value=stored, encrypted=encrypted))
        else:
            row.value, row.encrypted = stored, encrypted
    if after:
        audit.record(
            "plugin.settings",
            "plugin",
            plugin,
            before=jsonable(_masked(before, secret)),
            after=jsonable(_masked(after, secret)),
        )
    db.session.commit()


def reencrypt_secrets() -> tuple[int, int]:
    """Encrypt every stored secret with the current key (after a rotation, while the old key is
    a fallback). Returns (re-encrypted, unreadable); commits."""
    done = unreadable = 0
    for row in db.session.scalars(select(PluginSetting).where(PluginSetting.encrypted.is_(True))):
        try:
            row.value = encryption.reencrypt(row.value)
        except encryption.SecretUnreadable:
            unreadable += 1
        else:
            done += 1
    if done:
        audit.record("plugin.settings.reencrypt", "plugin", "*", after={"secrets": done})
    db.session.commit()
    return done, unreadable


# --- product fields -------------------------------------------------------------------------------


def product_values(product: Product, plugin: str) -> dict[str, Any]:
    """The values of ``plugin``'s fields on ``product``: defaults, overridden by what was saved."""
    registration = registered_product_fields().get(plugin)
    values = dict(registration.defaults) if registration else {}
    values.update((product.plugin_fields or {}).get(plugin, {}))
    return values


def save_product_values(product: Product, plugin: str, values: Mapping[str, Any]) -> None:
    """Store ``plugin``'s field values on ``product`` and commit; audited."""
    current = dict(product.plugin_fields or {})
    before = current.get(plugin, {})
    after = {key: jsonable(value) for key, value in values.items()}
    if after == before:
        return
    current[plugin] = after
    product.plugin_fields = current  # a new dict: JSON columns do not track changes in place
    audit.record(
        "product.plugin_fields",
        "product",
        product.id,
        before={plugin: before},
        after={plugin: after},
    )
    db.session.commit()
