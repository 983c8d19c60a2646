"""What the money steps share: WHMCS's cycles, statuses and money columns read the portal's way.

WHMCS keeps a client's currency on the client (``tblclients.currency``), not on invoices or
payments; prices as one ``tblpricing`` row per currency with a column per cycle, where -1.00 (or
any price not above zero) means the cycle is not offered; and an invoice's ``total`` after the
credit applied to it (subtotal + tax + tax2 - credit). Nothing here writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from portal.billing.cycles import Cycle
from portal.imports.whmcs.context import ImportContext
from portal.invoicing.models import InvoiceStatus

ZERO = Decimal("0.00")

#: tblpricing's cycle columns and their setup fee columns, in WHMCS's order.
PRICE_COLUMNS: tuple[tuple[str, str, Cycle], ...] = (
    ("monthly", "msetupfee", Cycle.MONTHLY),
    ("quarterly", "qsetupfee", Cycle.QUARTERLY),
    ("semiannually", "ssetupfee", Cycle.SEMI_ANNUAL),
    ("annually", "asetupfee", Cycle.ANNUAL),
    ("biennially", "bsetupfee", Cycle.BIENNIAL),
    ("triennially", "tsetupfee", Cycle.TRIENNIAL),
)


def money(value: Any) -> Decimal:
    """A ``decimal(16,2)`` value as the portal keeps it (None as zero)."""
    if value is None:
        return ZERO
    return Decimal(value).quantize(Decimal("0.01"))


def cycle_of(whmcs_cycle: str) -> Cycle | None:
    """``Monthly``, ``Semi-Annually``, ``One Time``, ``Free Account``... or None if unknown."""
    try:
        return Cycle.parse((whmcs_cycle or "").replace("One Time", "onetime"))
    except ValueError:
        return None


def offered_prices(
    row: Mapping[str, Any], *, one_time: bool = False, allow_zero: bool = False
) -> tuple[list[tuple[Cycle, Decimal, Decimal]], list[str]]:
    """The (cycle, price, setup fee) a tblpricing row offers, and the names of the cycles it
    disables. A one-time product's price is in the ``monthly`` column."""
    if one_time:
        price = money(row["monthly"])
        if price < 0:
            return [], ["onetime"]
        return [(Cycle.ONE_TIME, price, max(money(row["msetupfee"]), ZERO))], []
    offered, disabled = [], []
    for column, setup_column, cycle in PRICE_COLUMNS:
        price = money(row[column])
        if price > 0 or (allow_zero and price == 0):
            offered.append((cycle, price, max(money(row[setup_column]), ZERO)))
        else:
            disabled.append(column)
    return offered, disabled


def currency_codes(ctx: ImportContext) -> dict[int, str]:
    """WHMCS currency id -> ISO code (the currencies step's lookup)."""
    from portal.imports.whmcs.steps.currencies import codes

    return codes(ctx)


def default_currency(ctx: ImportContext) -> str:
    """WHMCS's default currency (fixed-amount promotions are in it)."""
    rows = ctx.source.query("SELECT code FROM tblcurrencies ORDER BY `default` DESC, id LIMIT 1")
    return str(rows[0]["code"]).strip().upper() if rows else "RUB"


def clients(ctx: ImportContext) -> dict[int, tuple[int, str]]:
    """WHMCS client id -> (portal client id, the client's currency), for imported clients."""
    if "billing.clients" not in ctx.lookups:
        from sqlalchemy import select

        from portal.accounts.models import Client
        from portal.core.extensions import db

        by_target = {
            entry_target: int(source_id)
            for source_id, entry_target in mapped(ctx, "tblclients").items()
        }
        found: dict[int, tuple[int, str]] = {}
        ids = list(by_target)
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            for client_id, currency in db.session.execute(
                select(Client.id, Client.currency).where(Client.id.in_(chunk))
            ):
                found[by_target[client_id]] = (client_id, currency)
        ctx.lookups["billing.clients"] = found
    return ctx.lookups["billing.clients"]


def mapped(ctx: ImportContext, table: str) -> dict[str, int]:
    """source id (text) -> portal id of every row of ``table`` imported so far."""
    return ctx.mappings.target_ids(table)


def grouped(rows: Iterable[Mapping[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    """Rows of a small table by one of their columns (prices by product, items by invoice)."""
    out: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row[key], []).append(dict(row))
    return out


_TRAILING_NUMBER = re.compile(r"(\d+)\D*$")


def trailing_number(number: str) -> int | None:
    """The counter inside an invoice number: 'INV-000102' -> 102, '57' -> 57."""
    found = _TRAILING_NUMBER.search(number or "")
    return int(found.group(1)) if found else None


#: Statuses that say what became of an invoice beyond its money; the amounts decide the rest.
_KEPT_WHEN_NOTHING_PAID = (
    InvoiceStatus.CANCELLED,
    InvoiceStatus.REFUNDED,
    InvoiceStatus.COLLECTIONS,
    InvoiceStatus.UNPAID,
)


def settled_status(status: InvoiceStatus, total: Decimal, paid: Decimal) -> InvoiceStatus:
    """The status of an imported invoice (``status`` as WHMCS had it, or as settled before) with
    ``total`` (before credit) of which ``paid`` was received: payments less refunds, plus the
    credit applied. What ``portal billing check`` expects of it:

    a draft stays a draft; all received is paid, some is partly paid (or still in collections),
    nothing keeps cancelled / refunded / collections / unpaid. WHMCS leaves an invoice "Paid"
    after a partial refund, and may cancel one with money on it: here both are partly paid."""
    if status is InvoiceStatus.DRAFT:
        return status
    if paid >= total and (total > 0 or status is InvoiceStatus.PAID):
        return InvoiceStatus.PAID
    if paid > 0:
        if status is InvoiceStatus.COLLECTIONS:
            return status
        return InvoiceStatus.PARTIALLY_PAID
    return status if status in _KEPT_WHEN_NOTHING_PAID else InvoiceStatus.UNPAID


def imported(ctx: ImportContext, table: str) -> Any:
    """A subquery of the portal ids imported from WHMCS ``table`` (for the report's sums)."""
    return ctx.mappings.targets(table)


def per_currency(ctx: ImportContext, sql: str) -> list[dict[str, Any]]:
    """A per-currency query of the source: ``sql`` joins the client's currency as ``cur`` and
    selects ``COALESCE(cur.code, :fallback) AS code`` (an unknown currency is the default)."""
    return ctx.source.query(sql, fallback=default_currency(ctx))


def both_sides(ctx: ImportContext, *whats: str) -> None:
    """Name every currency of ``whats`` on both sides of the report's sums (zero where one side
    has none), so that "0.00" stands against "0.00", not against nothing."""
    sides = (ctx.report.source.money, ctx.report.imported.money)
    keys = {key for side in sides for key in side if key[0] in whats}
    for side in sides:
        for key in keys:
            side[key] = side.get(key, ZERO) + ZERO


def split_tax(tax: Decimal, bases: list[Decimal]) -> list[Decimal]:
    """``tax`` shared between lines in proportion to their ``bases`` (the taxed amounts), to the
    kopeck, the remainder on the largest line: the lines add up to the invoice's tax exactly."""
    total = sum(bases, ZERO)
    if not bases or total == 0:
        return [ZERO for _ in bases]
    shares = [(tax * base / total).quantize(Decimal("0.01")) for base in bases]
    largest = max(range(len(bases)), key=lambda index: abs(bases[index]))
    shares[largest] += tax - sum(shares, ZERO)
    return shares


def free_name(model: Any, name: str, own_id: int | None, whmcs_id: object) -> str:
    """``name`` if no other row of ``model`` (unique names: products, add-ons) holds it, else
    the name marked with the WHMCS id, so two WHMCS products called alike both come over."""
    from sqlalchemy import select

    from portal.core.extensions import db

    name = (name or "").strip()[:180] or f"WHMCS #{whmcs_id}"
    holder = db.session.scalar(select(model.id).where(model.name == name))
    if holder is None or holder == own_id:
        return name
    return f"{name} (WHMCS #{whmcs_id})"
