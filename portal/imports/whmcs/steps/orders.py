"""tblorders -> orders, with an item per service WHMCS created from the order.

History only: an imported order is never accepted again (accepting creates services and an
invoice); its status, amount, promo code, first invoice and the client's IP come over as WHMCS
had them. An order whose services were refused keeps the items it could map.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.core.extensions import db
from portal.imports.whmcs.billing import clients, cycle_of, grouped, mapped, money
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.values import moment
from portal.orders.models import (
    Order,
    OrderItem,
    OrderKind,
    OrderSource,
    OrderStatus,
    PromoCode,
    Service,
)

TABLE = "tblorders"
STATUSES = {
    "Pending": OrderStatus.PENDING,
    "Active": OrderStatus.ACTIVE,
    "Cancelled": OrderStatus.CANCELLED,
    "Fraud": OrderStatus.FRAUD,
}


def run(ctx: ImportContext) -> None:
    """Writes flush themselves: nothing half-built is flushed by a lookup in between."""
    with db.session.no_autoflush:
        services = grouped(
            ctx.source.query(
                "SELECT id, orderid, packageid, billingcycle, amount, firstpaymentamount "
                "FROM tblhosting WHERE orderid > 0 ORDER BY id"
            ),
            "orderid",
        )
        invoices = mapped(ctx, "tblinvoices")
        for row in ctx.rows(TABLE):
            own = services.get(row["id"], [])
            ctx.sync(
                TABLE,
                row,
                target_table="sales_order",
                extra=(own,),
                write=lambda existing, row=row, own=own: _write(ctx, row, own, invoices, existing),
                exists=lambda target: db.session.get(Order, target) is not None,
            )


def _write(
    ctx: ImportContext,
    row: dict[str, Any],
    services: list[dict[str, Any]],
    invoices: dict[str, int],
    existing: int | None,
) -> int:
    client = clients(ctx).get(row["userid"])
    if client is None:
        raise Refused(f"its client #{row['userid']} was not imported")
    client_id, currency = client
    order = db.session.get(Order, existing) if existing else None
    if order is None:
        order = Order(client_id=client_id, currency=currency)
        db.session.add(order)
    elif order.items:
        order.items.clear()
        db.session.flush()
    order.client_id, order.currency = client_id, currency
    order.kind = OrderKind.NEW
    order.status = STATUSES.get((row["status"] or "").strip(), OrderStatus.PENDING)
    order.source = OrderSource.STAFF if row["admin_requestor_id"] else OrderSource.CLIENT_AREA
    code = (row["promocode"] or "").strip()
    order.promo_code_id = (
        db.session.scalar(select(PromoCode.id).where(PromoCode.code == code)) if code else None
    )
    order.invoice_id = invoices.get(str(row["invoiceid"])) if row["invoiceid"] else None
    order.generate_invoice = bool(row["invoiceid"])
    order.skip_email = True
    order.total = money(row["amount"])
    order.ip = (row["ipaddress"] or "")[:45]
    order.notes = "\n".join(
        part for part in (f"WHMCS order {row['ordernum']}", row["notes"] or "") if part
    )
    order.admin_notes = f"{row['fraudmodule']}: {row['fraudoutput']}" if row["fraudmodule"] else ""
    placed = moment(ctx, row["date"]) or ctx.now
    order.created_at = placed
    order.accepted_at = placed if order.status is OrderStatus.ACTIVE else None
    for position, held in enumerate(services):
        service_id = ctx.mappings.target_id("tblhosting", held["id"])
        product_id = ctx.mappings.target_id("tblproducts", held["packageid"])
        cycle = cycle_of(held["billingcycle"])
        if product_id is None or cycle is None:
            continue
        service = db.session.get(Service, service_id) if service_id else None
        order.items.append(
            OrderItem(
                position=position,
                product_id=product_id,
                service_id=service.id if service else None,
                cycle=cycle.value,
                description=service.product.name if service else "",
                price=money(held["amount"]),
            )
        )
    db.session.flush()
    return order.id
