"""Firing event hooks through pluggy, so that no plugin can break the operation that fires them.

:func:`fire` calls the hook through pluggy's caller (``plugins.hook.<event>(**kwargs)``), so the
order is pluggy's documented one: ``tryfirst`` implementations, then the others, the last
registered first, then ``trylast`` ones; wrappers (``wrapper=True`` and old-style
``hookwrapper=True``) run around them all.

Isolation is added once, when a plugin is registered (``PortalPluginManager.register`` calls
:func:`isolate` for each implementation of an event hook), by replacing the implementation's
function in pluggy's ``HookImpl`` with a guard around it:

* a plain implementation runs in its own savepoint (portal.core.transactions): what it writes
  joins the caller's transaction, and if it raises, it is logged with the plugin's name, its
  writes are rolled back, and it returns a :class:`PluginFailure` instead of raising, so pluggy
  goes on to the next plugin and the caller's change goes on. :func:`fire` returns the names
  of the plugins that failed, read from those results;
* a wrapper is not put in a savepoint of its own (the implementations it wraps run inside it);
  an exception it raises is tagged with the plugin's name and re-raised. pluggy then stops the
  call, so when a hook has wrappers, :func:`fire` runs the whole call in one savepoint: a wrapper
  that raises is logged by name, the event's plugin writes are rolled back, and the caller's
  change still goes on.

Why there and not elsewhere: pluggy stops at the first exception, and its call loop
(``_multicall``) offers no per-implementation hook; ``add_hookcall_monitoring`` only sees the
whole call. Wrapping each implementation where pluggy keeps it keeps pluggy's ordering and
wrappers untouched, applies whoever calls the hook, and costs nothing when nobody listens.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from flask import current_app
from pluggy import HookImpl

log = logging.getLogger(__name__)

#: The attribute on an exception raised by a wrapper that names its plugin.
PLUGIN_ATTRIBUTE = "portal_plugin"


@dataclass(frozen=True)
class PluginFailure:
    """What an isolated event implementation returns instead of raising."""

    plugin: str


def fire(event: str, **kwargs: Any) -> list[str]:
    """Tell every plugin about ``event``; returns the names of plugins that failed."""
    plugins = current_app.extensions.get("portal.plugins")
    if plugins is None:
        return []
    caller = getattr(plugins.hook, event)
    implementations = caller.get_hookimpls()
    if not implementations:
        return []
    if not any(impl.wrapper or impl.hookwrapper for impl in implementations):
        results = caller(**kwargs)
    else:
        from portal.core.transactions import savepoint

        try:
            with savepoint():
                results = caller(**kwargs)
        except Exception as exc:
            name = getattr(exc, PLUGIN_ATTRIBUTE, None)
            if name is None:  # not raised by a plugin's wrapper: the core's own bug
                raise
            log.exception("plugin %s failed in event %s (a wrapper)", name, event)
            return [name]
    return [result.plugin for result in results if isinstance(result, PluginFailure)]


def isolate(impl: HookImpl, event: str, plugin: str) -> None:
    """Guard ``impl``, an implementation of ``event`` by ``plugin``, as the module docstring
    says. pluggy types ``HookImpl.function`` as final; it is a plain slot, replaced once here
    before the first call."""
    if impl.wrapper or impl.hookwrapper:
        guarded = _named(impl.function, plugin)
    else:
        guarded = _in_savepoint(impl.function, event, plugin)
    impl.function = guarded  # type: ignore[misc]


def _in_savepoint(function: Callable[..., Any], event: str, plugin: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def isolated(*args: Any, **kwargs: Any) -> PluginFailure | None:
        # Imported here: the manager, and so ``portal --help``, must not load the database layer.
        from portal.core.transactions import savepoint

        try:
            with savepoint():
                function(*args, **kwargs)
        except Exception:  # a plugin's bug is its own; the caller's change goes on
            log.exception("plugin %s failed in event %s", plugin, event)
            return PluginFailure(plugin)
        return None

    return isolated


def _named(function: Callable[..., Any], plugin: str) -> Callable[..., Generator[Any, Any, Any]]:
    @functools.wraps(function)
    def named(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        try:
            return (yield from function(*args, **kwargs))
        except Exception as exc:
            if not hasattr(exc, PLUGIN_ATTRIBUTE):  # an inner wrapper's is named already
                setattr(exc, PLUGIN_ATTRIBUTE, plugin)
            raise

    return named


def plugin_label(registered_name: str, plugin: object) -> str:
    """The entry point name, or for a plugin registered without one (tests, built-ins) its
    module or class name rather than pluggy's numeric id."""
    if not registered_name.isdigit():
        return registered_name
    return getattr(plugin, "__name__", None) or type(plugin).__qualname__
