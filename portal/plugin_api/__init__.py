"""The plugin API: everything a plugin may use of the portal, and nothing else.

A plugin imports ``portal.plugin_api``, ``portal.billing`` (pure money and date maths) and, in
its tests, ``portal.testing``; an import-linter contract in setup.cfg holds the plugins shipped
in ``plugins/`` to that. Everything else in ``portal`` is private and may change in any
release. docs/plugins.md lists every name below with what it is for; docs/hooks.md is the
reference of the hooks.

* ``hookimpl`` marks hook implementations;
* base classes and value types of the registry hooks (:class:`Provisioner`,
  :class:`PaymentGateway`, :class:`Report`, :class:`StatementParser`, :class:`UsageCollector`,
  :class:`PluginSettings`, :class:`MenuItem`, :class:`JobDefinition`, ...);
* the model classes a plugin reads (what hooks hand it, what it looks up) and ``Base``,
  ``MoneyType`` and ``UTCDateTime`` for its own tables;
* service functions with stable keyword signatures: the database session and savepoints, the
  business date, settings, tickets, charges, credit, payments, suspension, provisioning
  commands and mail.

Importing this package loads only pluggy; the rest is imported on first use of a name, so a
plugin module can import it at the top cheaply.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

from portal.platform.hooks.markers import hookimpl as hookimpl  # re-exported

if TYPE_CHECKING:  # what the names resolve to, for type checkers and import-linter
    from portal.plugin_api._models import *  # noqa: F403
    from portal.plugin_api._services import *  # noqa: F403
    from portal.plugin_api._types import *  # noqa: F403

#: The private modules that gather the public names, each listing them in its ``__all__``:
#: the extension types, the models, the service functions. Loaded on first use of a name.
_PARTS = ("_types", "_models", "_services")


def _part(name: str) -> ModuleType:
    return import_module(f"{__name__}.{name}")


def __getattr__(name: str) -> Any:
    """Find a public name in the part that gathers it (importing it), then keep it here."""
    if name.startswith("__") and name != "__all__":  # probes (pickle, inspect): not ours
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "__all__":
        value: Any = ["hookimpl", *(n for part in _PARTS for n in _part(part).__all__)]
    else:
        found = (part for part in map(_part, _PARTS) if name in part.__all__)
        module = next(found, None)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__getattr__("__all__")})
