"""Plugin manager: discovery by entry point, explicit enabling, failure isolation.

Installed is not enabled: every entry point in group ``portal.plugins`` is *discovered*, but only
enabled names are imported and registered. Enabled means: listed in the ``plugins`` setting
(file or ``PORTAL_PLUGINS``) unless staff disabled it, or enabled by staff on the Plugins page
(the runtime setting ``plugins_enabled``, ``{name: true|false}``): the staff's choice wins. A
plugin that fails to import or register is recorded with its error and the portal starts without
it. :class:`PluginLoader` rebuilds the manager when staff change their choice.
"""

from __future__ import annotations

import importlib.metadata
import logging
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from portal.platform.hooks import specs
from portal.platform.hooks.markers import PROJECT_NAME

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
    """The pluggy manager plus what discovery found, and how it was built."""

    pm: pluggy.PluginManager
    infos: dict[str, PluginInfo] = field(default_factory=dict)
    loader: PluginLoader | None = None
    #: The staff's choices it was built with (the ``plugins_enabled`` runtime setting).
    choices: dict[str, bool] = field(default_factory=dict)

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a registry hook and flatten the lists every plugin returned."""
        results = getattr(self.pm.hook, hook_name)(**kwargs)
        return [item for result in results if result for item in result]

    def by_name(self, hook_name: str, attribute: str = "name") -> dict[str, Any]:
        """Call a registry hook and index the items by ``attribute``: the first registered
        under a name wins (plugins come before built-ins); an item without one is refused."""
        found: dict[str, Any] = {}
        for item in self.collect(hook_name):
            key = getattr(item, attribute, "")
            if not key:
                raise ValueError(f"{item!r} from {hook_name} has no {attribute}")
            found.setdefault(key, item)
        return found

    @property
    def failed(self) -> list[PluginInfo]:
        return [info for info in self.infos.values() if info.state == "failed"]

    def implementers(self, hook_name: str) -> set[str]:
        """Names of the entry-point plugins that implement ``hook_name``."""
        hook = getattr(self.pm.hook, hook_name)
        return {impl.plugin_name for impl in hook.get_hookimpls() if impl.plugin_name in self.infos}


@dataclass(frozen=True)
class PluginLoader:
    """Everything needed to build the manager again when staff enable or disable a plugin: the
    configured names, the built-ins and the extra objects stay; only the choices change."""

    configured: tuple[str, ...] = ()
    builtins: tuple[object, ...] = ()
    extra: tuple[object, ...] = ()

    def enabled(self, choices: Mapping[str, bool]) -> list[str]:
        """The configured names plus those staff enabled, minus those staff disabled."""
        names = set(self.configured) | {name for name, on in choices.items() if on}
        return sorted(names - {name for name, on in choices.items() if not on})

    def build(self, choices: Mapping[str, bool] | None = None) -> PortalPlugins:
        choices = dict(choices or {})
        plugins = build_plugin_manager(self.enabled(choices), self.builtins, self.extra)
        plugins.loader, plugins.choices = self, choices
        return plugins


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
