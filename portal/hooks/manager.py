"""Plugin manager: discovery by entry point, explicit enabling, failure isolation.

Installed is not enabled: every entry point in group ``portal.plugins`` is *discovered*, but only
the names listed in the ``plugins`` setting are imported and registered. A plugin that fails to
import or register is recorded with its error and the portal starts without it.
"""

from __future__ import annotations

import importlib.metadata
import logging
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from portal.hooks import specs
from portal.hooks.markers import PROJECT_NAME

ENTRY_POINT_GROUP = "portal.plugins"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginInfo:
    """What the admin Plugins page and ``portal plugins list`` show about one plugin."""

    name: str
    state: str  # "enabled", "disabled" or "failed"
    version: str = ""
    module: str = ""
    error: str = ""


@dataclass
class PortalPlugins:
    """The pluggy manager plus what discovery found."""

    pm: pluggy.PluginManager
    infos: dict[str, PluginInfo] = field(default_factory=dict)

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a registry hook and flatten the lists every plugin returned."""
        results = getattr(self.pm.hook, hook_name)(**kwargs)
        return [item for result in results if result for item in result]

    @property
    def failed(self) -> list[PluginInfo]:
        return [info for info in self.infos.values() if info.state == "failed"]


def discover() -> list[importlib.metadata.EntryPoint]:
    """Entry points in the ``portal.plugins`` group, by name (the first of a duplicate wins)."""
    seen: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault(ep.name, ep)
    return sorted(seen.values(), key=lambda ep: ep.name)


def _version(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.version if dist is not None else ""


def build_plugin_manager(
    enabled: Iterable[str],
    builtins: Iterable[object] = (),
    extra: Iterable[object] = (),
) -> PortalPlugins:
    """Create the manager: built-ins first (their hookimpls are ``trylast``), then enabled entry
    points, then ``extra`` objects (how tests load a plugin without installing it)."""
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(specs)
    plugins = PortalPlugins(pm)
    for builtin in builtins:
        pm.register(builtin)
    wanted = set(enabled)
    for ep in discover():
        module = ep.value.split(":")[0]
        if ep.name not in wanted:
            plugins.infos[ep.name] = PluginInfo(ep.name, "disabled", _version(ep), module)
            continue
        try:
            pm.register(ep.load(), name=ep.name)
            pm.check_pending()
        except Exception as exc:  # a broken plugin must not stop the portal
            if pm.has_plugin(ep.name):
                pm.unregister(name=ep.name)
            log.error("plugin %s failed to load: %s", ep.name, exc)
            log.debug("%s", traceback.format_exc())
            error = f"{type(exc).__name__}: {exc}"
            plugins.infos[ep.name] = PluginInfo(ep.name, "failed", _version(ep), module, error)
            continue
        plugins.infos[ep.name] = PluginInfo(ep.name, "enabled", _version(ep), module)
    for name in sorted(wanted - set(plugins.infos)):
        plugins.infos[name] = PluginInfo(name, "failed", error="not installed")
        log.error("plugin %s is enabled in settings but not installed", name)
    for obj in extra:
        pm.register(obj)
        pm.check_pending()
    return plugins
