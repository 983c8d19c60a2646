"""Hook specifications: the contract between the portal and its plugins.

Three kinds (see docs/hooks.md):

* registry hooks ``register_*`` return things the core collects (lists are flattened);
* event hooks notify every plugin; the core isolates a plugin's failure;
* decision hooks are ``firstresult``: the first non-None answer wins.

Every hookspec here has a section in docs/hooks.md and is exercised by tests/plugins/exerciser.py.
"""

from __future__ import annotations

from typing import Any

from portal.platform.hooks.markers import hookspec


@hookspec
def register_blueprints() -> list[Any]:
    """Return Flask blueprints to mount. Set ``bp.portal_area`` to ``"admin"`` or ``"client"``
    so the right identity (staff or client) applies to its views."""


@hookspec
def register_admin_menu_items() -> list[Any]:
    """Return :class:`MenuItem` objects for the admin top menu."""


@hookspec
def register_client_area_panels() -> list[Any]:
    """Return :class:`Panel` objects shown on the client-area dashboard."""


@hookspec
def register_cli_commands() -> list[Any]:
    """Return click commands or groups to add under the ``portal`` command."""


@hookspec
def register_payment_gateways() -> list[Any]:
    """Return :class:`PaymentGateway` objects. A gateway whose ``name`` is
    already taken by one registered earlier is ignored (plugins come before built-ins)."""


@hookspec(firstresult=True)
def resolve_tax_rate(context: Any) -> Any:
    """Decide the tax percent (a ``Decimal``) for a :class:`portal.billing.TaxContext`, or return
    None to let the next plugin and then the portal's own rules decide."""


@hookspec
def register_provisioners() -> list[Any]:
    """Return :class:`Provisioner` instances. A product whose ``module`` is a
    provisioner's ``name`` has its create/suspend/unsuspend/terminate/change-package commands run
    by it (through the provisioning queue; never broadcast to every plugin)."""


@hookspec
def register_scheduled_jobs() -> list[Any]:
    """Return :class:`JobDefinition` objects: jobs run by the scheduler like the
    core ones (lease, history, "Run now"); an id already taken is ignored."""


@hookspec
def collect_usage(service: Any, period: Any) -> list[Any]:
    """Return :class:`portal.billing.UsageCharge` items used by ``service`` during ``period``
    (a :class:`portal.billing.Period` that has ended). Called by the billing run for services of
    usage-billed products (in arrears); return an empty list or None when you have nothing."""


@hookspec
def register_usage_collectors() -> list[Any]:
    """Return usage collectors: objects with a ``name`` and ``collect(service, period)`` returning
    :class:`portal.billing.UsageCharge` items. The billing run asks the collector whose ``name``
    is the usage-billed product's ``module`` (never broadcast); the first registered wins."""


@hookspec
def register_statement_parsers() -> list[Any]:
    """Return :class:`StatementParser` objects. A statement import asks
    them in order and the first whose ``recognises(data)`` is true reads the file; the built-in
    1CClientBankExchange parser is registered ``trylast``."""


@hookspec
def register_reports() -> list[Any]:
    """Return :class:`Report` objects, listed in the admin Reports menu, each with
    filters, a table, an optional chart and CSV export. The first registered under a name wins."""


@hookspec
def register_settings() -> list[Any]:
    """Return :class:`PluginSettings`: a form shown on the admin Plugins
    page; the values are read with ``plugin_settings(plugin)``."""


@hookspec
def register_product_fields() -> list[Any]:
    """Return :class:`ProductFields`: extra fields on the admin product
    page, stored per product; read with ``portal.platform.plugin_settings.product_values``."""


# --- event hooks: every plugin is told; a plugin's error is logged and never undoes the event.
# They are called inside the transaction that makes the change, after it is flushed, each in a
# savepoint: what a plugin writes commits with the change, and a plugin that raises is rolled
# back alone.


@hookspec
def client_created(client: Any) -> None:
    """A client signed up or was added by staff."""


@hookspec
def order_placed(order: Any) -> None:
    """An order was placed (client area or staff); it is pending until accepted."""


@hookspec
def order_accepted(order: Any) -> None:
    """An order was accepted: its services exist (active) and its first invoice, if any."""


@hookspec
def invoice_created(invoice: Any) -> None:
    """An invoice (draft, renewal, change, late fee, credit note) was created."""


@hookspec
def invoice_issued(invoice: Any) -> None:
    """An invoice got its number and became payable."""


@hookspec
def invoice_paid(invoice: Any) -> None:
    """An invoice became fully paid (by a payment or by credit)."""


@hookspec
def payment_received(payment: Any) -> None:
    """Money from a client was recorded (bank statement, gateway, staff)."""


@hookspec
def service_suspended(service: Any, reason: str) -> None:
    """A service was suspended (``reason`` is "overdue" or what staff wrote)."""


@hookspec
def service_unsuspended(service: Any) -> None:
    """A suspended service is active again."""


@hookspec
def service_terminated(service: Any) -> None:
    """A service was terminated (overdue, at the end of its period, or by staff)."""


@hookspec
def service_renewed(service: Any, period: Any, invoice: Any) -> None:
    """The billing run put ``period`` of ``service`` on ``invoice``."""


@hookspec
def ticket_opened(ticket: Any) -> None:
    """A support ticket was opened (client area, e-mail or staff)."""


@hookspec
def ticket_replied(ticket: Any, message: Any) -> None:
    """A reply or a note was added to a ticket."""


# --- decision hooks: firstresult, the first non-None answer decides (resolve_tax_rate is above).


@hookspec(firstresult=True)
def validate_order(client: Any, items: Any) -> str | None:
    """Refuse an order before it is placed: return the message the client (or staff) sees, or
    None to let it through. ``items`` are the quoted cart items (product, cycle, options, price)."""
