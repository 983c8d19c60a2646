"""tbladdons + tblpricing -> add-ons, offered with the products ``packages`` names, priced per
currency for the cycles WHMCS offers them in (-1.00 or not above zero: not offered)."""

from __future__ import annotations

from typing import Any

from portal.catalog.models import Addon, AddonPrice, Product
from portal.core.extensions import db
from portal.imports.whmcs.billing import currency_codes, free_name, grouped, offered_prices
from portal.imports.whmcs.context import ImportContext

TABLE = "tbladdons"


def run(ctx: ImportContext) -> None:
    """Writes flush themselves: nothing half-built is flushed by a lookup in between."""
    with db.session.no_autoflush:
        codes = currency_codes(ctx)
        prices = grouped(
            ctx.source.query("SELECT * FROM tblpricing WHERE type = 'addon' ORDER BY id"), "relid"
        )
        for row in ctx.rows(TABLE, changed=("updated_at",)):
            own = prices.get(row["id"], [])
            ctx.sync(
                TABLE,
                row,
                target_table="addon",
                extra=(own,),
                write=lambda existing, row=row, own=own: _write(ctx, row, own, codes, existing),
                exists=lambda target: db.session.get(Addon, target) is not None,
            )


def _write(
    ctx: ImportContext,
    row: dict[str, Any],
    pricing: list[dict[str, Any]],
    codes: dict[int, str],
    existing: int | None,
) -> int:
    addon = db.session.get(Addon, existing) if existing else None
    if addon is None:
        addon = Addon(name="")
        db.session.add(addon)
    elif addon.prices:
        addon.prices.clear()
        db.session.flush()
    addon.name = free_name(Addon, row["name"], addon.id, row["id"])
    addon.description = row["description"] or ""
    addon.activate_with_parent = (row["autoactivate"] or "") != ""
    product_ids = []
    for whmcs_id in str(row["packages"] or "").split(","):
        if whmcs_id.strip().isdigit():
            target = ctx.mappings.target_id("tblproducts", int(whmcs_id))
            if target is not None:
                product_ids.append(target)
    addon.products = [db.session.get(Product, target) for target in product_ids]
    for price_row in pricing:
        code = codes.get(int(price_row["currency"]))
        offered, disabled = offered_prices(price_row)
        if code is None:
            continue
        if disabled and len(disabled) < 6:
            ctx.report.refused_value(
                "tblpricing",
                price_row["id"],
                ", ".join(disabled),
                f"add-on #{row['id']} {code}: cycle not offered (price -1.00 or not above zero)",
            )
        addon.prices.extend(
            AddonPrice(currency=code, cycle=cycle.value, price=price, setup_fee=setup)
            for cycle, price, setup in offered
        )
    db.session.flush()
    return addon.id
