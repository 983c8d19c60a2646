"""Firing event hooks so that no plugin can break the operation that fires them.

pluggy stops at the first exception, so each implementation is called on its own, inside a
savepoint: what a plugin writes joins the caller's transaction, and a plugin that raises is
logged (with its name), its writes rolled back, and the next plugin is still told.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from portal.core.transactions import savepoint

log = logging.getLogger(__name__)


def fire(event: str, **kwargs: Any) -> list[str]:
    """Tell every plugin about ``event``; returns the names of plugins that failed."""
    plugins = current_app.extensions.get("portal.plugins")
    if plugins is None:
        return []
    caller = getattr(plugins.hook, event)
    failed: list[str] = []
    for impl in caller.get_hookimpls():
        arguments = {name: kwargs[name] for name in impl.argnames if name in kwargs}
        try:
            with savepoint():
                impl.function(**arguments)
        except Exception:  # a plugin's bug is its own; the caller's change goes on
            name = plugin_label(impl.plugin_name, impl.plugin)
            log.exception("plugin %s failed in event %s", name, event)
            failed.append(name)
    return failed


def plugin_label(registered_name: str, plugin: object) -> str:
    """The entry point name, or for a plugin registered without one (tests, built-ins) its
    module or class name rather than pluggy's numeric id."""
    if not registered_name.isdigit():
        return registered_name
    return getattr(plugin, "__name__", None) or type(plugin).__qualname__
