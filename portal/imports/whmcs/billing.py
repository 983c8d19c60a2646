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
    """WHMCS currency id -> ISO code (tblcurrencies), read once per import."""
    if "billing.currencies" not in ctx.lookups:
        rows = ctx.source.query("SELECT id, code FROM tblcurrencies")
        ctx.lookups["billing.currencies"] = {
            int(row["id"]): str(row["code"]).strip().upper() for row in rows
        }
    return ctx.lookups["billing.currencies"]


def default_currency(ctx: ImportContext) -> str:
    rows = ctx.source.query("SELECT code FROM tblcurrencies ORDER BY `default` DESC, id LIMIT 1")
    return str(rows[0]["code"]).strip().upper() if rows else "RUB"


def client_currencies(ctx: ImportContext) -> dict[int, str]:
    """WHMCS client id -> the ISO code of the currency the client pays in."""
    if "billing.client_currencies" not in ctx.lookups:
        codes = currency_codes(ctx)
        fallback = default_currency(ctx)
        rows = ctx.source.query("SELECT id, currency FROM tblclients")
        ctx.lookups["billing.client_currencies"] = {
            int(row["id"]): codes.get(int(row["currency"] or 0), fallback) for row in rows
        }
    return ctx.lookups["billing.client_currencies"]


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


#: WHMCS invoice statuses that say nothing about money (the amounts decide the rest).
_KEPT_STATUSES = {
    "Draft": InvoiceStatus.DRAFT,
    "Cancelled": InvoiceStatus.CANCELLED,
    "Refunded": InvoiceStatus.REFUNDED,
    "Collections": InvoiceStatus.COLLECTIONS,
}


def invoice_status(whmcs_status: str, total: Decimal, paid: Decimal) -> InvoiceStatus:
    """The portal status of an invoice WHMCS calls ``whmcs_status`` with ``total`` (before
    credit) of which ``paid`` was received (payments less refunds, plus credit applied).

    Draft stays a draft. Otherwise the money decides, as the portal's own ledger would: all
    received is paid, some is partly paid (or still in collections), none keeps WHMCS's
    cancelled / refunded / collections, else unpaid. WHMCS leaves an invoice "Paid" after a
    partial refund; here it is partly paid, which the money check requires."""
    kept = _KEPT_STATUSES.get(whmcs_status)
    if kept is InvoiceStatus.DRAFT:
        return kept
    if paid >= total and (total > 0 or whmcs_status == "Paid"):
        return InvoiceStatus.PAID
    if paid > 0:
        return (
            InvoiceStatus.COLLECTIONS
            if kept is InvoiceStatus.COLLECTIONS
            else InvoiceStatus.PARTIALLY_PAID
        )
    return kept or InvoiceStatus.UNPAID


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
