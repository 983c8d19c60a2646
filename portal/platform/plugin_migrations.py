"""Alembic branches of plugins: where their revisions live and what ``portal db upgrade`` runs.

A plugin that owns tables ships its revisions in ``<its top-level package>/migrations/`` (a
plain directory of revision files, usually with an empty ``__init__.py`` so that it is packaged),
as an Alembic branch labelled with the plugin's entry point name. The directory is found without
importing the plugin, so the revisions of every *installed* plugin, enabled or not, are known to
Alembic: a database that still holds the revision of a plugin disabled since then keeps working.

``portal db upgrade`` (no revision) upgrades the core and the branches of *enabled* plugins only:
the heads found in those directories, the core first. ``portal db upgrade heads`` would also
create the tables of disabled plugins; ``portal db downgrade <plugin>@base`` drops a plugin's.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from flask import current_app

from portal.core.settings import data_dir

if TYPE_CHECKING:
    from alembic.config import Config

    from portal.platform.hooks.manager import PortalPlugins

CORE_VERSIONS = data_dir("migrations") / "versions"
DIRECTORY = "migrations"


def package_dir(module_name: str) -> Path | None:
    """The directory of ``module_name``'s top-level package, found without importing it."""
    top = module_name.split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _migrations_of(package: Path | None) -> Path | None:
    if package is None:
        return None
    candidate = package / DIRECTORY
    return candidate.resolve() if candidate.is_dir() else None


def _extra_name(obj: Any) -> str:
    return getattr(obj, "__name__", None) or type(obj).__qualname__


def _extra_dirs(plugins: PortalPlugins) -> dict[str, Path]:
    """Plugins registered as objects (tests): a package module's own ``migrations``."""
    found: dict[str, Path] = {}
    for obj in plugins.loader.extra if plugins.loader else ():
        if isinstance(obj, ModuleType) and hasattr(obj, "__path__"):
            directory = _migrations_of(Path(next(iter(obj.__path__))))
            if directory is not None:
                found[_extra_name(obj)] = directory
    return found


def migration_dirs(plugins: PortalPlugins) -> dict[str, Path]:
    """Migration directories by plugin name: every discovered plugin's and the extra objects'."""
    found: dict[str, Path] = {}
    for info in plugins.infos.values():
        directory = _migrations_of(package_dir(info.module)) if info.module else None
        if directory is not None:
            found[info.name] = directory
    return {**found, **_extra_dirs(plugins)}


def upgraded_dirs(plugins: PortalPlugins) -> list[Path]:
    """The directories ``portal db upgrade`` brings to their heads: core, enabled plugins."""
    every = migration_dirs(plugins)
    enabled = [
        every[name]
        for name, info in sorted(plugins.infos.items())
        if info.state == "enabled" and name in every
    ]
    return [CORE_VERSIONS.resolve(), *enabled, *_extra_dirs(plugins).values()]


def configure_alembic(config: Config) -> Config:
    """Flask-Migrate configure callback: the core's and every known plugin's revisions."""
    plugins = current_app.extensions.get("portal.plugins")
    locations = [CORE_VERSIONS.resolve()]
    if plugins is not None:
        locations += [d for d in migration_dirs(plugins).values() if d not in locations]
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", os.pathsep.join(str(d).replace("%", "%%") for d in locations)
    )
    return config


def _heads() -> list[tuple[str, Path | None]]:
    """Every head revision known to Alembic with the directory its file is in."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    found = []
    for head in script.get_heads():
        revision = script.get_revision(head)
        directory = Path(revision.path).resolve().parent if revision and revision.path else None
        found.append((head, directory))
    return found


def upgrade_targets() -> list[str]:
    """The head revisions of the core and of the enabled plugins' branches, core first."""
    from portal.core.app_state import plugins

    order = {directory: position for position, directory in enumerate(upgraded_dirs(plugins()))}
    targets = [(order[d], head) for head, d in _heads() if d in order]
    return [head for _position, head in sorted(targets)]


def upgrade_all(*, sql: bool = False, tag: str | None = None) -> list[str]:
    """Upgrade the core and every enabled plugin's branch; returns the revisions reached."""
    from flask_migrate import upgrade

    targets = upgrade_targets()
    for target in targets:
        upgrade(revision=target, sql=sql, tag=tag)
    return targets


def pending() -> set[str]:
    """Enabled plugins whose branch is not at its head in the database: staff are told to run
    ``portal db upgrade`` (migrations never run from a web request)."""
    from alembic.migration import MigrationContext

    from portal.core.app_state import plugins
    from portal.core.extensions import db

    current = plugins()
    dirs = {
        name: directory
        for name, directory in migration_dirs(current).items()
        if name in current.infos and current.infos[name].state == "enabled"
    }
    if not dirs:
        return set()
    with db.engine.connect() as connection:
        applied = set(MigrationContext.configure(connection).get_current_heads())
    return {
        name
        for head, directory in _heads()
        for name, plugin_dir in dirs.items()
        if directory == plugin_dir and head not in applied
    }
