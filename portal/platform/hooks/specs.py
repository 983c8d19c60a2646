"""Hook specifications: the contract between the portal and its plugins.

Three kinds, each hook declared with the decorator of its kind (see docs/hooks.md):

* registry hooks (``@registry``, ``register_*``) return lists of things the core collects; the
  core picks an item by its name (a product's module, a report's URL), never broadcasts;
* event hooks (``@event``) tell every plugin that something happened; each implementation runs
  in its own savepoint and a failure is logged and never undoes the change
  (portal/platform/hooks/events.py);
* decision hooks (``@decision``, ``firstresult``): the first non-None answer wins.

Types are named here for readers and checkers; they are imported only under ``TYPE_CHECKING``, so
loading the specs (``portal --help`` does) imports no area. Plugins get the same types from
``portal.plugin_api``. A hook renamed in a release keeps working under its old name for a while:
see :data:`RENAMED_HOOKS`.

Every hookspec here has a section in docs/hooks.md, under the heading of its kind, and is
exercised by tests/plugins/exerciser.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from portal.platform.hooks.markers import hookspec

if TYPE_CHECKING:
    from datetime import date
    from decimal import Decimal

    import click
    from flask import Blueprint

    from portal.accounts.clients import ClientRecords
    from portal.accounts.models.client import Client
    from portal.billing.cycles import Cycle
    from portal.billing.periods import Period
    from portal.billing.tax import TaxContext
    from portal.billing.usage import UsageCharge, UsageCollector
    from portal.catalog.models.catalog import Product
    from portal.invoicing.gateways import PaymentGateway
    from portal.invoicing.invoice_attachments import InvoiceAttachment
    from portal.invoicing.models.invoice import Invoice
    from portal.invoicing.models.payment import Payment
    from portal.invoicing.statement_formats import StatementParser
    from portal.orders.models.order import Order
    from portal.orders.models.service import Service
    from portal.orders.orders import QuotedItem
    from portal.orders.provisioners import Provisioner
    from portal.platform.jobs.registry import JobDefinition
    from portal.platform.plugin_forms import PluginSettings, ProductFields
    from portal.platform.reports import Report
    from portal.support.models.ticket import Ticket, TicketMessage
    from portal.web.menu import ClientCardTab, DashboardCounter, MenuItem, Panel


class HookKind(StrEnum):
    REGISTRY = "registry"
    EVENT = "event"
    DECISION = "decision"


#: Every hook's kind, by name; the manager isolates the implementations of event hooks.
HOOK_KINDS: dict[str, HookKind] = {}

_Spec = TypeVar("_Spec", bound=Callable[..., object])


def _kind(kind: HookKind, *, firstresult: bool = False) -> Callable[[_Spec], _Spec]:
    def declare(function: _Spec) -> _Spec:
        HOOK_KINDS[function.__name__] = kind
        return hookspec(firstresult=firstresult)(function)

    return declare


registry = _kind(HookKind.REGISTRY)
event = _kind(HookKind.EVENT)
decision = _kind(HookKind.DECISION, firstresult=True)


@dataclass(frozen=True)
class RenamedHook:
    """Where an old hook name now points, and the release in which the old name stops working."""

    new_name: str
    removed_in: str


#: ``{old name: RenamedHook(new name, release)}``. A plugin that implements an old name is
#: registered under the new one (pluggy's ``specname``) with a ``HookDeprecationWarning``
#: naming the plugin, both hooks and the release; the arguments must not change in a rename
#: (a hook with other arguments is a new hook). Empty: no hook has been renamed yet.
RENAMED_HOOKS: dict[str, RenamedHook] = {}


# --- registry hooks: each plugin returns a list; the core flattens them. Built-in defaults are
# registered first and ``trylast``, so a plugin's item of the same name comes first and wins.


@registry
def register_blueprints() -> list[Blueprint]:
    """Registry. Return Flask blueprints to mount. Set ``bp.portal_area`` to ``"admin"`` or
    ``"client"`` so the right identity (staff or client) applies to its views."""


@registry
def register_admin_menu_items() -> list[MenuItem]:
    """Registry. Return :class:`MenuItem` objects for the admin top menu."""


@registry
def register_client_area_panels() -> list[Panel]:
    """Registry. Return :class:`Panel` objects shown on the client-area dashboard."""


@registry
def register_dashboard_counters() -> list[DashboardCounter]:
    """Registry. Return :class:`DashboardCounter` objects: numbers on the admin dashboard next to
    the core's (pending orders, overdue invoices...), each linking to its list and shown only to
    staff who hold its permission. A key already taken (by the core or an earlier plugin) is
    ignored."""


@registry
def register_client_card_tabs() -> list[ClientCardTab]:
    """Registry. Return :class:`ClientCardTab` objects: tabs added after the core's on the
    admin client card (``/admin/clients/<id>/tab/<name>``), each rendering its own content for
    the client; shown to staff who may view clients (and hold the tab's ``permission``)."""


@registry
def load_demo_data(today: date) -> list[str]:
    """Registry. ``portal demo`` calls it after the core's demo data is in (its staff, the demo
    client, the catalogue, the support department): add your own demo rows for ``today``, and
    commit. Must be idempotent (``portal demo`` runs on every ``make run``): create only what is
    missing. Return lines that ``portal demo`` prints (e.g. a login to try); not isolated — a
    failure fails the command."""


@registry
def register_cli_commands() -> list[click.Command]:
    """Registry. Return click commands or groups to add under the ``portal`` command."""


@registry
def register_payment_gateways() -> list[PaymentGateway]:
    """Registry. Return :class:`PaymentGateway` objects. A gateway whose ``name`` is already
    taken by one registered earlier is ignored (plugins come before built-ins)."""


@registry
def register_provisioners() -> list[Provisioner]:
    """Registry. Return :class:`Provisioner` instances. A product whose ``module`` is a
    provisioner's ``name`` has its create/suspend/unsuspend/terminate/change-package commands run
    by it (through the provisioning queue; never broadcast to every plugin)."""


@registry
def register_scheduled_jobs() -> list[JobDefinition]:
    """Registry. Return :class:`JobDefinition` objects: jobs run by the scheduler like the
    core ones (lease, history, "Run now"); an id already taken is ignored."""


@registry
def collect_usage(service: Service, period: Period) -> list[UsageCharge] | None:
    """Registry (asked of every plugin). Return the :class:`UsageCharge` items ``service`` used
    during ``period`` (a :class:`Period` that has ended). Called by the billing run for services
    of usage-billed products (in arrears); return an empty list or None when you have nothing."""


@registry
def register_usage_collectors() -> list[UsageCollector]:
    """Registry. Return :class:`UsageCollector` objects: a ``name`` and
    ``collect(service, period)`` returning :class:`UsageCharge` items. The billing run asks the
    collector whose ``name`` is the usage-billed product's ``module`` (never broadcast); the
    first registered wins."""


@registry
def invoice_attachments(invoice: Invoice) -> list[InvoiceAttachment] | None:
    """Registry (asked of every plugin). Return the :class:`InvoiceAttachment` documents that go
    with an issued ``invoice`` (a call detail report...), or an empty list or None. Listed as
    links on the invoice page in both areas, served by the core's routes, and attached to the
    e-mails that attach the invoice's PDF, rendered when the outbox delivers them. Called on
    every view of an invoice page: decide cheaply, render only in ``render``."""


@registry
def register_statement_parsers() -> list[StatementParser]:
    """Registry. Return :class:`StatementParser` objects. A statement import asks them in order
    and the first whose ``recognises(data)`` is true reads the file; the built-in
    1CClientBankExchange parser is registered ``trylast``."""


@registry
def register_reports() -> list[Report]:
    """Registry. Return :class:`Report` objects, listed in the admin Reports menu, each with
    filters, a table, an optional chart and CSV export. The first registered under a name wins."""


@registry
def register_settings() -> list[PluginSettings]:
    """Registry. Return :class:`PluginSettings`: a form shown on the admin Plugins page; the
    values are read with ``plugin_settings(plugin)``."""


@registry
def register_product_fields() -> list[ProductFields]:
    """Registry. Return :class:`ProductFields`: extra fields on the admin product page, stored
    per product; read with ``portal.platform.plugin_settings.product_values``."""


@registry
def register_client_records() -> list[ClientRecords]:
    """Registry. Return :class:`ClientRecords`: rows kept per client that follow a merged
    client (``move``), may refuse a merge first (``refuse_merge``) and may count as history
    that keeps a client from being deleted (``has_history``). Called inside the merge's
    transaction and not isolated: a mover that fails fails the merge, which rolls back whole."""


# --- event hooks: every plugin is told; a plugin's error is logged and never undoes the event.
# They are called inside the transaction that makes the change, after it is flushed, each in a
# savepoint: what a plugin writes commits with the change, and a plugin that raises is rolled
# back alone. The core's own reactions are built-in implementations marked ``tryfirst``.


@event
def client_created(client: Client) -> None:
    """Event. A client signed up or was added by staff."""


@event
def order_placed(order: Order) -> None:
    """Event. An order was placed (client area or staff); it is pending until accepted."""


@event
def order_accepted(order: Order) -> None:
    """Event. An order was accepted: its services exist (active) and its first invoice, if
    any."""


@event
def invoice_created(invoice: Invoice) -> None:
    """Event. An invoice (draft, renewal, change, late fee, credit note) was created."""


@event
def invoice_issued(invoice: Invoice) -> None:
    """Event. An invoice got its number and became payable."""


@event
def invoice_paid(invoice: Invoice) -> None:
    """Event. An invoice became fully paid (by a payment or by credit). The built-in reactions
    (paid upgrades applied, paid orders queued for provisioning, services suspended for
    non-payment unsuspended) run first."""


@event
def payment_received(payment: Payment) -> None:
    """Event. Money from a client was recorded (bank statement, gateway, staff)."""


@event
def service_suspended(service: Service, reason: str) -> None:
    """Event. A service was suspended (``reason`` is "overdue" or what staff wrote)."""


@event
def service_unsuspended(service: Service) -> None:
    """Event. A suspended service is active again."""


@event
def service_terminated(service: Service) -> None:
    """Event. A service was terminated (overdue, at the end of its period, or by staff)."""


@event
def service_renewed(service: Service, period: Period, invoice: Invoice) -> None:
    """Event. The billing run put ``period`` of ``service`` on ``invoice``."""


@event
def ticket_opened(ticket: Ticket) -> None:
    """Event. A support ticket was opened (client area, e-mail or staff)."""


@event
def ticket_replied(ticket: Ticket, message: TicketMessage) -> None:
    """Event. A reply or a note was added to a ticket."""


# --- decision hooks: firstresult, the first non-None answer decides.


@decision
def resolve_tax_rate(context: TaxContext) -> Decimal | None:
    """Decision. Decide the tax percent for a :class:`TaxContext`, or return None to let the
    next plugin and then the portal's own rules decide."""


@decision
def co_term_with(client: Client, product: Product, cycle: Cycle, start: date) -> Service | None:
    """Decision. The running service a new service of ``product`` ordered on ``start`` ends
    with (its first period runs to that service's next due date, prorated), instead of the
    core's choice (the client's oldest active service of the same cycle). Return one of the
    client's active services of ``cycle`` whose current period contains ``start``; anything
    else is ignored and the core decides. E.g. licences of one product line share one period."""


@decision
def setup_coefficient(client: Client, product: Product) -> Decimal | None:
    """Decision. What ``product``'s own setup fee is multiplied by for ``client`` on the first
    invoice (a plugin's per-client setup coefficient, 4 decimals, above 0), or None: the fee
    at list price (the core's personal discounts never touch setup fees)."""


@decision
def validate_order(client: Client, items: Sequence[QuotedItem]) -> str | None:
    """Decision. Refuse an order before it is placed: return the message the client (or staff)
    sees, or None to let it through. ``items`` are the quoted cart items (product, cycle,
    options, price)."""
