"""tblproducts + tblpricing -> products and their prices per currency and cycle.

A cycle priced -1.00 (or anything not above zero) is not offered in WHMCS and is not carried
over; the pricing row is listed in the report with the cycles it disabled. One-time products
are priced in the ``monthly`` column, free ones get a free price in every currency. WHMCS
server modules (cPanel, Proxmox...) have no portal counterpart: the product comes over without
one and the report names the module, for staff to choose a portal module by hand.
"""

from __future__ import annotations

from typing import Any

from portal.billing.cycles import Cycle
from portal.catalog.models import Product, ProductPrice, ProductType, Visibility
from portal.core.extensions import db
from portal.imports.whmcs.billing import (
    ZERO,
    currency_codes,
    free_name,
    grouped,
    offered_prices,
)
from portal.imports.whmcs.context import ImportContext, Refused

TABLE = "tblproducts"


def run(ctx: ImportContext) -> None:
    """Writes flush themselves: nothing half-built is flushed by a lookup in between."""
    with db.session.no_autoflush:
        codes = currency_codes(ctx)
        prices = grouped(
            ctx.source.query("SELECT * FROM tblpricing WHERE type = 'product' ORDER BY id"), "relid"
        )
        hidden_groups = {
            int(row["id"])
            for row in ctx.source.query("SELECT id FROM tblproductgroups WHERE hidden")
        }
        for row in ctx.rows(TABLE, changed=("updated_at",)):
            own_prices = prices.get(row["id"], [])
            ctx.sync(
                TABLE,
                row,
                target_table="product",
                extra=(own_prices, row["gid"] in hidden_groups),
                write=lambda existing, row=row, own=own_prices: _write(
                    ctx, row, own, codes, row["gid"] in hidden_groups, existing
                ),
                exists=lambda target: db.session.get(Product, target) is not None,
            )


def _write(
    ctx: ImportContext,
    row: dict[str, Any],
    pricing: list[dict[str, Any]],
    codes: dict[int, str],
    group_hidden: bool,
    existing: int | None,
) -> int:
    group_id = ctx.mappings.target_id("tblproductgroups", row["gid"])
    if group_id is None:
        raise Refused(f"its product group #{row['gid']} was not imported")
    product = db.session.get(Product, existing) if existing else None
    if product is None:
        product = Product(group_id=group_id, name="")
        db.session.add(product)
    product.group_id = group_id
    product.name = free_name(Product, row["name"], product.id, row["id"])
    product.description = row["description"] or ""
    product.type = ProductType.SERVICE
    if row["retired"]:
        product.visibility = Visibility.STAFF_ONLY
    elif row["hidden"] or group_hidden:
        product.visibility = Visibility.HIDDEN
    else:
        product.visibility = Visibility.CLIENT_AREA
    product.sort_order = int(row["order"] or 0)
    product.stock = int(row["qty"]) if row["stockcontrol"] else None
    if row["servertype"]:
        ctx.report.refused_value(
            TABLE,
            row["id"],
            "servertype",
            f"WHMCS module {row['servertype']!r} has no portal counterpart: choose a module",
        )
    if product.prices:  # replaced whole: the old rows go first (unique per currency and cycle)
        product.prices.clear()
        db.session.flush()
    product.prices = _prices(ctx, row, pricing, codes)
    db.session.flush()
    return product.id


def _prices(
    ctx: ImportContext,
    row: dict[str, Any],
    pricing: list[dict[str, Any]],
    codes: dict[int, str],
) -> list[ProductPrice]:
    paytype = (row["paytype"] or "").lower()
    if paytype == "free":
        return [
            ProductPrice(currency=code, cycle=Cycle.FREE.value, price=ZERO, setup_fee=ZERO)
            for code in sorted(set(codes.values()))
        ]
    out = []
    for price_row in pricing:
        code = codes.get(int(price_row["currency"]))
        if code is None:
            ctx.report.refused_value("tblpricing", price_row["id"], "currency", "unknown currency")
            continue
        offered, disabled = offered_prices(price_row, one_time=paytype == "onetime")
        if disabled:
            ctx.report.refused_value(
                "tblpricing",
                price_row["id"],
                ", ".join(disabled),
                f"product #{row['id']} {code}: cycle not offered (price -1.00 or not above zero)",
            )
        out.extend(
            ProductPrice(currency=code, cycle=cycle.value, price=price, setup_fee=setup)
            for cycle, price, setup in offered
        )
    return out
