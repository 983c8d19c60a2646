"""tblpromotions -> promo codes.

Percentage and fixed-amount promotions come over; WHMCS's "Free Setup" and "Price Override"
have no portal kind and are refused with that reason. WHMCS counts uses in a number, the portal
in redemption records, which an import cannot invent: what WHMCS still allowed (``maxuses`` less
``uses``) becomes the code's limit, and a code used up comes over inactive.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.core.extensions import db
from portal.imports.whmcs.billing import cycle_of, default_currency, money
from portal.imports.whmcs.context import ImportContext, Refused
from portal.orders.models import PromoCode, PromoCodeKind

TABLE = "tblpromotions"
_KINDS = {"percentage": PromoCodeKind.PERCENT, "fixed amount": PromoCodeKind.FIXED}


def run(ctx: ImportContext) -> None:
    """Writes flush themselves: nothing half-built is flushed by a lookup in between."""
    with db.session.no_autoflush:
        currency = default_currency(ctx)
        for row in ctx.rows(TABLE):
            ctx.sync(
                TABLE,
                row,
                target_table="promo_code",
                write=lambda existing, row=row: _write(ctx, row, currency, existing),
                exists=lambda target: db.session.get(PromoCode, target) is not None,
            )


def _write(ctx: ImportContext, row: dict[str, Any], currency: str, existing: int | None) -> int:
    kind = _KINDS.get((row["type"] or "").strip().lower())
    if kind is None:
        raise Refused(f"promotion type {row['type']!r} has no portal counterpart")
    code = (row["code"] or "").strip()[:50]
    if not code:
        raise Refused("no code")
    promo = db.session.get(PromoCode, existing) if existing else None
    if promo is None:
        taken = db.session.scalar(select(PromoCode.id).where(PromoCode.code == code))
        if taken is not None:
            raise Refused(f"the portal has a promo code {code!r} already (#{taken})")
        promo = PromoCode(code=code, kind=kind, value=money(0), created_at=ctx.now)
        db.session.add(promo)
    promo.code = code
    promo.kind = kind
    promo.value = money(row["value"])
    promo.currency = currency if kind is PromoCodeKind.FIXED else None
    promo.description = (row["notes"] or "")[:255]
    products = []
    for whmcs_id in str(row["appliesto"] or "").split(","):
        if whmcs_id.strip().isdigit():
            target = ctx.mappings.target_id("tblproducts", int(whmcs_id))
            if target is not None:
                products.append(target)
    promo.product_ids = products
    promo.cycles = [
        cycle.value
        for name in str(row["cycles"] or "").split(",")
        if name.strip() and (cycle := cycle_of(name.strip())) is not None
    ]
    promo.recurring = bool(row["recurring"])
    promo.valid_from = row["startdate"]
    promo.valid_to = row["expirationdate"]
    promo.once_per_client = bool(row["onceperclient"])
    max_uses = int(row["maxuses"] or 0)
    left = max(max_uses - int(row["uses"] or 0), 0) if max_uses else None
    promo.max_uses = left
    promo.active = left != 0
    db.session.flush()
    return promo.id
