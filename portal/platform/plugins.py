"""Enabling and disabling plugins at run time (admin Plugins page, ``portal plugins enable``).

The staff's choices are the runtime setting ``plugins_enabled``: ``{name: true|false}``. A name
set to true is enabled even if the ``plugins`` setting (file, ``PORTAL_PLUGINS``) does not list
it; a name set to false is disabled even if it does; names staff never touched follow the
``plugins`` setting. So the file stays the default for a fresh installation and staff decide
from then on.

Hooks follow a change without a restart: each process compares the stored choices with those
its plugin manager was built with at the start of every request (one primary-key lookup) and
rebuilds the manager when they differ. Blueprints and CLI commands cannot be removed from or
added to a running Flask application, so a plugin that has them needs a restart
(:func:`needs_restart`), and so does the scheduler for a plugin's scheduled jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.exc import SQLAlchemyError

from portal.core.app_state import plugins
from portal.platform.hooks.manager import PluginLoader, PortalPlugins
from portal.platform.models import Setting

SETTING = "plugins_enabled"
#: Hooks whose results are fixed when the app is built: a change needs a restart.
STARTUP_HOOKS = ("register_blueprints", "register_cli_commands")
MOUNTED = "portal.plugins.mounted"

log = logging.getLogger(__name__)


class PluginError(ValueError):
    """A plugin cannot be enabled or disabled as asked; the message says why."""


def _clean(value: Any) -> dict[str, bool]:
    if not isinstance(value, Mapping):
        return {}
    return {str(name): bool(on) for name, on in value.items()}


def choices() -> dict[str, bool]:
    """The staff's choices as stored (``{}`` when they made none)."""
    # runtime_settings (and the audit log behind it) is imported on use: `portal plugins list`
    # reads the choices through this module without building the app (see from_settings).
    from portal.platform import runtime_settings

    return _clean(runtime_settings.get(SETTING))


def stored_choices(app: Flask) -> dict[str, bool]:
    """The choices read while the app is being built, before any request."""
    from portal.core.extensions import db  # on use: from_settings() builds no app

    with app.app_context():
        return _read_choices(db.engine)


def _read_choices(engine: Engine) -> dict[str, bool]:
    """The choices straight from the database. A database without the ``setting`` table yet
    (before ``portal db upgrade``) has none."""
    try:
        with engine.connect() as connection:
            value = connection.scalar(select(Setting.value).where(Setting.key == SETTING))
    except SQLAlchemyError:
        log.info("no stored plugin choices (database not migrated yet?)")
        return {}
    return _clean(value)


def from_settings(settings: Mapping[str, Any]) -> PortalPlugins:
    """The plugins as an app built with ``settings`` would load them (discovered by entry point,
    enabled by the settings and the staff's stored choices), without building that app: what
    ``portal plugins list`` needs, in a fraction of the time. Built-ins are left out; they are
    not listed."""
    engine = create_engine(settings["database_url"])
    try:
        stored = _read_choices(engine)
    finally:
        engine.dispose()
    return PluginLoader(tuple(settings["plugins"])).build(stored)


def remember_mounted(app: Flask, built: PortalPlugins) -> None:
    """Note which plugins' blueprints and commands were mounted when the app was built."""
    app.extensions[MOUNTED] = {name for hook in STARTUP_HOOKS for name in built.implementers(hook)}


def needs_restart(name: str) -> bool:
    """True when what the process runs differs from the plugin's state for a part that only a
    restart changes: its pages or commands are mounted but it is disabled now, or the other way
    round."""
    current = plugins()
    mounted = name in current_app.extensions.get(MOUNTED, set())
    enabled = current.infos.get(name) is not None and current.infos[name].state == "enabled"
    wants_mounting = enabled and any(name in current.implementers(h) for h in STARTUP_HOOKS)
    return mounted != wants_mounting


def refresh() -> None:
    """Rebuild this process's plugin manager if the stored choices changed (another process or
    this one saved them). Runs before every request but static files'."""
    from portal.web.static_request import is_static_request

    current = plugins()
    if current.loader is None or is_static_request():
        return
    stored = choices()
    if stored != current.choices:
        current_app.extensions["portal.plugins"] = current.loader.build(stored)
        log.info("plugins rebuilt: %s", sorted(current_app.extensions["portal.plugins"].infos))


def set_enabled(name: str, enabled: bool) -> None:
    """Enable or disable an installed plugin (audited as a setting change); commits, and this
    process uses the new set of plugins straight away."""
    current = plugins()
    info = current.infos.get(name)
    if enabled and (info is None or info.error == "not installed"):
        raise PluginError(_("The plugin %(name)s is not installed.", name=name))
    from portal.platform import runtime_settings

    wanted = {**choices(), name: enabled}
    runtime_settings.put(SETTING, wanted)
    refresh()
