"""The orders area's built-in plugin: its reaction to a paid invoice and its client records.

Registered before any plugin by the app factory (``BUILTIN_PLUGINS`` in portal/core/app.py), as
datasette registers its ``default_*`` modules; docs/hooks.md, "Built-in plugins".
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.accounts.clients import ClientRecords
from portal.core.extensions import db
from portal.invoicing.models import Invoice
from portal.orders import provisioning, service_changes
from portal.orders.models import Order, PromoUse, Service, ServiceChange
from portal.platform.hooks import hookimpl


@hookimpl(tryfirst=True)
def invoice_paid(invoice: Invoice) -> None:
    """Upgrades and downgrades waiting for the invoice apply, then the services of the new
    orders and the add-ons it paid for are queued for provisioning. ``tryfirst``: plugins that
    hear ``invoice_paid`` see the services as they are after the payment."""
    service_changes.apply_paid_upgrades(invoice)
    provisioning.queue_paid(invoice)


def _has_orders(client_id: int) -> bool:
    return (
        db.session.scalar(select(Order.id).where(Order.client_id == client_id).limit(1)) is not None
    )


def _same_product(source_id: int, target_id: int) -> str | None:
    """A client never holds the same product twice, so such a merge waits for staff."""
    source_products = select(Service.product_id).where(Service.client_id == source_id)
    clash = db.session.scalar(
        select(Service.id).where(
            Service.client_id == target_id, Service.product_id.in_(source_products)
        )
    )
    if clash is None:
        return None
    return _("Both clients have the same product. Merge or cancel one of the two services first.")


def _move(source_id: int, target_id: int) -> None:
    """Services, orders, promo uses and service changes follow a merged client."""
    for model in (Service, Order, PromoUse, ServiceChange):
        db.session.execute(
            update(model).where(model.client_id == source_id).values(client_id=target_id)
        )


@hookimpl(trylast=True)
def register_client_records() -> list[ClientRecords]:
    """Orders count as history: a client with orders is closed, not deleted."""
    return [ClientRecords("orders", _move, has_history=_has_orders, refuse_merge=_same_product)]
