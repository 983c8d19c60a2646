"""What clients, staff and the scheduler do, for a plugin's end-to-end tests.

A plugin imports only ``portal.plugin_api``, ``portal.billing`` and ``portal.testing``; its tests
still need to drive the portal around it — sell the product, pay, run the billing run and the
provisioning queue, suspend for non-payment, close a ticket. These functions do it through the
portal's own services (nothing is mocked), with signatures that stay put while the core moves.
Use them inside the ``app`` fixture's app context; each commits like the action it stands for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from portal.accounts import clients
from portal.accounts.models import Client, Staff
from portal.catalog.models import Product
from portal.core.app_state import plugins
from portal.core.extensions import db
from portal.invoicing import billing_run, overdue
from portal.invoicing.models import Invoice
from portal.orders import orders, provisioning, service_changes
from portal.orders.models import OrderSource, ProvisioningTask, Service, TaskStatus
from portal.orders.provisioners import Provisioner, provisioners
from portal.platform import demo, plugin_settings
from portal.platform.hooks.manager import PluginInfo
from portal.support import tickets
from portal.support.models import Ticket, TicketStatus

#: The provisioning queue's retry policy: attempts before a task fails, and the longest wait.
MAX_ATTEMPTS = provisioning.MAX_ATTEMPTS
BACKOFF_MAX = provisioning.BACKOFF_MAX
RunReport = provisioning.RunReport

__all__ = [
    "BACKOFF_MAX",
    "MAX_ATTEMPTS",
    "ProvisioningTask",
    "RunReport",
    "TaskStatus",
    "change_options",
    "change_package",
    "close_ticket",
    "load_demo_catalogue",
    "merge_clients",
    "order_and_accept",
    "plugin_info",
    "provisioner",
    "provisioning_tasks",
    "run_billing",
    "run_provisioning",
    "save_plugin_settings",
    "save_product_values",
    "set_service_status",
    "suspend_for_non_payment",
]


# --- the catalogue and the plugins ----------------------------------------------------------------


def load_demo_catalogue() -> dict[str, Product]:
    """The demo products (``portal demo``), by name: hosting, 1C, telephony, disk space..."""
    return demo.load_demo_catalogue()


def save_plugin_settings(plugin: str, values: Mapping[str, Any]) -> None:
    """Save ``plugin``'s settings as staff would on the Plugins page (audited, committed)."""
    plugin_settings.save(plugin, values)


def save_product_values(product: Product, plugin: str, values: Mapping[str, Any]) -> None:
    """Save ``plugin``'s product fields on ``product`` as staff would on the product page
    (audited, committed); read back with ``portal.plugin_api.product_values``."""
    plugin_settings.save_product_values(product, plugin, values)


def plugin_info(name: str) -> PluginInfo:
    """What the running app knows of plugin ``name``: ``state`` ("enabled", "disabled",
    "failed"), ``module``, ``version``, ``error``."""
    return plugins().infos[name]


def provisioner(name: str) -> Provisioner:
    """The provisioner registered under ``name`` (a product's Module), as the queue finds it."""
    return provisioners()[name]


# --- selling and paying ---------------------------------------------------------------------------


def order_and_accept(
    client: Client,
    product: Product,
    *,
    cycle: str = "monthly",
    options: Mapping[int, int] | None = None,
    today: date,
) -> tuple[Service, Invoice | None]:
    """``client`` orders ``product`` (option values {option id: quantity or choice id}) and
    staff accept the order without e-mail: the new service and its first invoice, if any."""
    item = orders.CartItem(product.id, cycle, dict(options or {}))
    order = orders.place_order(client, [item], today=today)
    orders.accept_order(order, today=today, send_email=False)
    service = db.session.get(Service, order.items[0].service_id)
    invoice = db.session.get(Invoice, order.invoice_id) if order.invoice_id else None
    return service, invoice


def change_options(service: Service, options: Mapping[int, int], *, today: date) -> Invoice | None:
    """The client changes the service's option values (final values, e.g. 3 packages) on
    ``today``: the invoice for the difference, or None when the change applied at once."""
    change = service_changes.confirm(
        service,
        service_changes.ChangeRequest(options=dict(options)),
        today=today,
        source=OrderSource.CLIENT_AREA,
    )
    return db.session.get(Invoice, change.invoice_id) if change.invoice_id else None


def change_package(service: Service, product: Product, *, today: date) -> Invoice | None:
    """The client moves the service to ``product`` (one of its upgrade paths) on ``today``: the
    invoice for the difference, or None when the change applied at once."""
    change = service_changes.confirm(
        service,
        service_changes.ChangeRequest(product_id=product.id),
        today=today,
        source=OrderSource.CLIENT_AREA,
    )
    return db.session.get(Invoice, change.invoice_id) if change.invoice_id else None


def merge_clients(target: Client, source: Client) -> None:
    """Staff merge ``source`` into ``target`` (everything of the source moves; it is then
    closed or deleted), as from the client card."""
    clients.merge_clients(target, source, staff_id=None)


def set_service_status(service: Service, status: str) -> None:
    """Staff set the service's status on its page ("suspended", "active", "terminated"...)."""
    service_changes.update_service(service, {"status": status})


def suspend_for_non_payment(service: Service, *, as_of: date) -> bool:
    """The overdue automation suspends the service on ``as_of`` (module command, hook, the
    client's letter); False if it was not active or already suspended that day."""
    done = overdue.suspend(service, as_of=as_of, reason=overdue.OVERDUE)
    db.session.commit()
    return done


# --- the scheduler --------------------------------------------------------------------------------


def run_overdue(as_of: date) -> dict[str, int]:
    """The overdue automation of ``as_of``: warnings, suspensions and terminations for unpaid
    invoices, and the services set to end with their period terminated on their due date."""
    return overdue.process_overdue(as_of)


def run_billing(as_of: date) -> billing_run.RunReport:
    """The billing run of ``as_of``: renewal invoices, usage collected from plugins."""
    return billing_run.bill_due(as_of)


def run_provisioning(now: datetime | None = None) -> provisioning.RunReport:
    """One pass of the provisioning queue at ``now`` (the app clock's by default): the due
    commands run through their modules; counts of done, retried, waiting and failed."""
    return provisioning.run_due(now)


def provisioning_tasks() -> list[ProvisioningTask]:
    """Every provisioning command queued so far, oldest first."""
    return list(db.session.scalars(select(ProvisioningTask).order_by(ProvisioningTask.id)))


# --- support --------------------------------------------------------------------------------------


def close_ticket(ticket: Ticket, staff: Staff) -> None:
    """``staff`` close the ticket (the client is told, as from the ticket page)."""
    tickets.update_ticket(ticket, staff, {"status": TicketStatus.CLOSED.value})
