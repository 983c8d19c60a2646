"""tblproductconfig* -> configurable options, one per WHMCS option and product it is linked to.

WHMCS shares an option group between products (tblproductconfiglinks); a portal option belongs
to one product, so each (option, product) pair becomes an option of that product, mapped as
``"<option id>:<product id>"`` (its choices as ``"<sub id>:<product id>"``). Dropdowns and radio
buttons become dropdowns, quantities quantities, a yes/no option a quantity of 0 or 1. Option
prices come over for the cycles the product itself is sold in; a price of 0.00 is a free choice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portal.catalog.models import (
    ConfigOption,
    ConfigOptionChoice,
    ConfigOptionPrice,
    OptionKind,
    ProductPrice,
)
from portal.core.extensions import db
from portal.imports.whmcs.billing import currency_codes, grouped, offered_prices
from portal.imports.whmcs.context import ImportContext, Refused

TABLE = "tblproductconfigoptions"
CHOICES = "tblproductconfigoptionssub"
_DROPDOWN_TYPES = {"1", "2"}  # dropdown, radio
_YES_NO = "3"


def run(ctx: ImportContext) -> None:
    """Writes flush themselves: nothing half-built is flushed by a lookup in between."""
    with db.session.no_autoflush:
        codes = currency_codes(ctx)
        options = grouped(
            ctx.source.query("SELECT * FROM tblproductconfigoptions ORDER BY `order`, id"), "gid"
        )
        subs = grouped(
            ctx.source.query("SELECT * FROM tblproductconfigoptionssub ORDER BY sortorder, id"),
            "configid",
        )
        prices = grouped(
            ctx.source.query("SELECT * FROM tblpricing WHERE type = 'configoptions' ORDER BY id"),
            "relid",
        )
        links = ctx.source.query("SELECT gid, pid FROM tblproductconfiglinks ORDER BY id")
        for link in links:
            for option in options.get(link["gid"], []):
                option_subs = subs.get(option["id"], [])
                option_prices = [p for sub in option_subs for p in prices.get(sub["id"], [])]
                key = f"{option['id']}:{link['pid']}"
                ctx.sync(
                    TABLE,
                    option,
                    source_id=key,
                    target_table="config_option",
                    extra=(link["pid"], option_subs, option_prices),
                    write=_writer(ctx, option, link["pid"], option_subs, option_prices, codes),
                    exists=lambda target: db.session.get(ConfigOption, target) is not None,
                )


def _writer(ctx: ImportContext, *args: Any) -> Callable[[int | None], int]:
    """The writer of one option (a closure: the loop variables change under a lambda)."""
    return lambda existing: _write(ctx, *args, existing)


def _names(optionname: str) -> tuple[str, str]:
    """WHMCS's ``name|shown name``: the shown part, and the part before it."""
    internal, _bar, shown = (optionname or "").partition("|")
    return (shown or internal).strip(), internal.strip()


def _write(
    ctx: ImportContext,
    row: dict[str, Any],
    product_whmcs_id: int,
    subs: list[dict[str, Any]],
    pricing: list[dict[str, Any]],
    codes: dict[int, str],
    existing: int | None,
) -> int:
    product_id = ctx.mappings.target_id("tblproducts", product_whmcs_id)
    if product_id is None:
        raise Refused(f"its product #{product_whmcs_id} was not imported")
    kind_code = str(row["optiontype"]).strip()
    option = db.session.get(ConfigOption, existing) if existing else None
    if option is None:
        option = ConfigOption(product_id=product_id, name="", kind=OptionKind.QUANTITY)
        db.session.add(option)
    elif option.prices or option.choices:
        option.prices.clear()
        option.choices.clear()
        db.session.flush()
    option.product_id = product_id
    option.name = _names(row["optionname"])[0][:200]
    option.sort_order = int(row["order"] or 0)
    option.step = 1
    if kind_code in _DROPDOWN_TYPES:
        option.kind = OptionKind.DROPDOWN
        option.minimum, option.maximum, option.unit = 0, None, ""
    else:
        option.kind = OptionKind.QUANTITY
        if kind_code == _YES_NO:
            option.minimum, option.maximum = 0, 1
        else:
            option.minimum = max(int(row["qtyminimum"] or 0), 0)
            option.maximum = int(row["qtymaximum"]) if row["qtymaximum"] else None
        option.unit = (_names(subs[0]["optionname"])[0] if subs else "")[:50]
    db.session.flush()
    cycles = _product_cycles(product_id)
    choice_of: dict[int, int | None] = {}
    for position, sub in enumerate(subs):
        if option.kind is OptionKind.DROPDOWN:
            choice = ConfigOptionChoice(
                option_id=option.id, name=_names(sub["optionname"])[0][:200], sort_order=position
            )
            db.session.add(choice)
            db.session.flush()
            choice_of[sub["id"]] = choice.id
            ctx.mappings.remember(
                CHOICES,
                f"{sub['id']}:{product_whmcs_id}",
                target_table="config_option_choice",
                target_id=choice.id,
                checksum="",
                at=ctx.now,
            )
        else:
            choice_of[sub["id"]] = None
    for price_row in pricing:
        code = codes.get(int(price_row["currency"]))
        offered, _disabled = offered_prices(price_row, allow_zero=True)
        for cycle, price, setup in offered:
            if code is None or (code, cycle.value) not in cycles:
                continue
            db.session.add(
                ConfigOptionPrice(
                    option_id=option.id,
                    choice_id=choice_of.get(price_row["relid"]),
                    currency=code,
                    cycle=cycle.value,
                    price=price,
                    setup_fee=setup,
                )
            )
    db.session.flush()
    return option.id


def _product_cycles(product_id: int) -> set[tuple[str, str]]:
    from sqlalchemy import select

    return set(
        db.session.execute(
            select(ProductPrice.currency, ProductPrice.cycle).where(
                ProductPrice.product_id == product_id
            )
        ).all()
    )
