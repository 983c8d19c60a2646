"""Plugin manager: discovery by entry point, explicit enabling, failure isolation.

Installed is not enabled: every entry point in group ``portal.plugins`` is *discovered*, but only
enabled names are imported and registered. Enabled means: listed in the ``plugins`` setting
(file or ``PORTAL_PLUGINS``) unless staff disabled it, or enabled by staff on the Plugins page
(the runtime setting ``plugins_enabled``, ``{name: true|false}``): the staff's choice wins. A
plugin that fails to import or register is recorded with its error and the portal starts without
it. :class:`PluginLoader` rebuilds the manager when staff change their choice.

:class:`PortalPluginManager` is pluggy's manager with two additions, both made when a plugin is
registered: the implementations of event hooks are isolated (portal/platform/hooks/events.py),
and an implementation of a renamed hook (``specs.RENAMED_HOOKS``) is registered under the new
name, with a :class:`HookDeprecationWarning` (docs/hooks.md, "Renamed hooks").
"""

from __future__ import annotations

import importlib.metadata
import logging
import traceback
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from portal.platform.hooks import specs
from portal.platform.hooks.events import isolate, plugin_label
from portal.platform.hooks.markers import PROJECT_NAME

ENTRY_POINT_GROUP = "portal.plugins"

log = logging.getLogger(__name__)


class HookDeprecationWarning(DeprecationWarning):
    """A plugin implements a hook under a name that will stop working."""


class PortalPluginManager(pluggy.PluginManager):
    """pluggy's manager for the portal's hookspecs, isolating event hooks and mapping renamed
    hooks to their new names (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self.add_hookspecs(specs)

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        """pluggy's options, with ``specname`` pointing at the new name of a renamed hook."""
        opts = super().parse_hookimpl_opts(plugin, name)
        renamed = _renamed(opts, name)
        return opts if opts is None or renamed is None else {**opts, "specname": renamed.new_name}

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """pluggy's ``register``, then the plugin's event implementations isolated and its
        implementations of renamed hooks warned about."""
        registered = super().register(plugin, name)
        if registered is None:  # a blocked name
            return None
        label = plugin_label(registered, plugin)
        for hook in self.get_hookcallers(plugin) or ():
            if specs.HOOK_KINDS.get(hook.name) is not specs.HookKind.EVENT:
                continue
            for impl in hook.get_hookimpls():
                if impl.plugin is plugin:
                    isolate(impl, hook.name, label)
        if specs.RENAMED_HOOKS:
            self._warn_renamed(plugin, label)
        return registered

    def _warn_renamed(self, plugin: object, label: str) -> None:
        """One warning per implementation of an old name, pointing at the implementation (as
        pluggy's own ``warn_on_impl`` does), and the same in the log for staff."""
        for attribute in dir(plugin):
            opts = super().parse_hookimpl_opts(plugin, attribute)
            renamed = _renamed(opts, attribute)
            if opts is None or renamed is None:
                continue
            old_name = opts.get("specname") or attribute
            message = (
                f"plugin {label} implements the hook {old_name}, renamed {renamed.new_name}: "
                f"it is called as {renamed.new_name} until release {renamed.removed_in}, "
                f"which drops the old name; rename the implementation (docs/hooks.md)"
            )
            log.warning("%s", message)
            function = getattr(plugin, attribute)
            code = getattr(function, "__code__", None)
            if code is None:
                warnings.warn(message, HookDeprecationWarning, stacklevel=3)
                continue
            warnings.warn_explicit(
                message,
                HookDeprecationWarning,
                filename=code.co_filename,
                lineno=code.co_firstlineno,
                module=getattr(function, "__module__", None) or "",
            )


def _renamed(opts: pluggy.HookimplOpts | None, attribute: str) -> specs.RenamedHook | None:
    """The renaming that applies to an implementation, by its ``specname`` or its name."""
    if opts is None:
        return None
    return specs.RENAMED_HOOKS.get(opts.get("specname") or attribute)


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

    pm: PortalPluginManager
    infos: dict[str, PluginInfo] = field(default_factory=dict)
    loader: PluginLoader | None = None
    #: The staff's choices it was built with (the ``plugins_enabled`` runtime setting).
    choices: dict[str, bool] = field(default_factory=dict)
    #: What callers derive from these plugins and keep (the admin menu): it goes with them
    #: when staff enable or disable a plugin and the set is built again.
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

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
    """Create the manager: built-ins first, under their module names (docs/hooks.md, "Built-in
    plugins"), then enabled entry points, then ``extra`` objects (how tests load a plugin
    without installing it)."""
    pm = PortalPluginManager()
    plugins = PortalPlugins(pm)
    for builtin in builtins:
        pm.register(builtin, name=getattr(builtin, "__name__", None))
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
