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
from typing import TYPE_CHECKING, Any

from portal.platform.hooks.markers import hookimpl as hookimpl  # re-exported

if TYPE_CHECKING:  # what the names below resolve to, for type checkers and import-linter
    from portal.plugin_api._models import *  # noqa: F403
    from portal.plugin_api._services import *  # noqa: F403
    from portal.plugin_api._types import *  # noqa: F403

#: Each public name and the private module that gathers it (loaded on first use).
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        (
            "BankStatement",
            "CallbackResult",
            "Chart",
            "JobDefinition",
            "MenuItem",
            "Panel",
            "PaymentGateway",
            "PluginSettings",
            "ProductFields",
            "Provisioner",
            "ProvisioningAction",
            "ProvisioningContext",
            "ProvisioningError",
            "ProvisioningPending",
            "Report",
            "ReportResult",
            "StatementEntry",
            "StatementFormatError",
            "StatementParser",
            "UsageCharge",
            "UsageCollector",
        ),
        "_types",
    ),
    **dict.fromkeys(
        (
            "Base",
            "Client",
            "Department",
            "Invoice",
            "InvoiceLine",
            "InvoiceStatus",
            "MoneyType",
            "OptionKind",
            "Order",
            "Payment",
            "Product",
            "ProductType",
            "Service",
            "ServiceAddon",
            "ServiceStatus",
            "Ticket",
            "TicketMessage",
            "TicketStatus",
            "UTCDateTime",
        ),
        "_models",
    ),
    **dict.fromkeys(
        (
            "PaymentError",
            "TicketError",
            "add_charge",
            "add_credit",
            "client_locale",
            "credit_balance",
            "email_client",
            "now",
            "open_ticket",
            "plugin_settings",
            "product_values",
            "queue_provisioning",
            "record_payment",
            "savepoint",
            "session",
            "suspend_service",
            "today",
            "unsuspend_service",
        ),
        "_services",
    ),
}

__all__ = sorted(["hookimpl", *_LAZY])


def __getattr__(name: str) -> Any:
    """Import the module behind a public name on first use, then keep the name here."""
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
