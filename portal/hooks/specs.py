"""Hook specifications: the contract between the portal and its plugins.

Three kinds (see docs/hooks.md):

* registry hooks ``register_*`` return things the core collects (lists are flattened);
* event hooks notify every plugin; the core isolates a plugin's failure;
* decision hooks are ``firstresult``: the first non-None answer wins.

Every hookspec here has a section in docs/hooks.md and is exercised by tests/plugins/exerciser.py.
"""

from __future__ import annotations

from typing import Any

from portal.hooks.markers import hookspec


@hookspec
def register_blueprints() -> list[Any]:
    """Return Flask blueprints to mount. Set ``bp.portal_area`` to ``"admin"`` or ``"client"``
    so the right identity (staff or client) applies to its views."""


@hookspec
def register_admin_menu_items() -> list[Any]:
    """Return :class:`portal.web.menu.MenuItem` objects for the admin top menu."""


@hookspec
def register_client_area_panels() -> list[Any]:
    """Return :class:`portal.web.menu.Panel` objects shown on the client-area dashboard."""


@hookspec
def register_cli_commands() -> list[Any]:
    """Return click commands or groups to add under the ``portal`` command."""


@hookspec
def register_payment_gateways() -> list[Any]:
    """Return :class:`portal.gateways.PaymentGateway` objects. A gateway whose ``name`` is
    already taken by one registered earlier is ignored (plugins come before built-ins)."""


@hookspec(firstresult=True)
def resolve_tax_rate(context: Any) -> Any:
    """Decide the tax percent (a ``Decimal``) for a :class:`portal.billing.TaxContext`, or return
    None to let the next plugin and then the portal's own rules decide."""
