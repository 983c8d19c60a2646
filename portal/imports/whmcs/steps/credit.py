"""tblcredit -> the credit ledger; the balance then agrees with ``tblclients.credit``.

- Credit added and credit taken away by staff come over as entries of the ledger, with their
  date and description.
- "Credit Applied to Invoice #N" rows (negative, ``relid`` the invoice) are already in the
  ledger: the invoices step wrote the credit each invoice shows as applied to it. They map to
  that entry instead of being counted twice.
- The balance WHMCS shows (``tblclients.credit``) is what the client may spend. When the
  imported log adds up to something else (WHMCS put an overpayment on credit without a log
  line, an old manual edit), a correction entry makes the balance equal WHMCS's and the report
  names the client and the difference.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from portal.core.extensions import db
from portal.imports.whmcs.billing import (
    ZERO,
    both_sides,
    clients,
    imported,
    mapped,
    money,
    per_currency,
)
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.values import moment
from portal.invoicing.models import CreditEntry, CreditReason

TABLE = "tblcredit"


def run(ctx: ImportContext) -> None:
    """Writes flush themselves: nothing half-built is flushed by a lookup in between."""
    with db.session.no_autoflush:
        invoices = mapped(ctx, "tblinvoices")
        for row in ctx.rows(TABLE):
            ctx.sync(
                TABLE,
                row,
                target_table="credit_entry",
                write=lambda existing, row=row: _write(ctx, row, invoices, existing),
                exists=lambda target: db.session.get(CreditEntry, target) is not None,
            )
        _balance(ctx)


def _applied_entry(invoice_id: int) -> int | None:
    return db.session.scalar(
        select(CreditEntry.id).where(
            CreditEntry.invoice_id == invoice_id, CreditEntry.reason == CreditReason.APPLIED
        )
    )


def _write(
    ctx: ImportContext, row: dict[str, Any], invoices: dict[str, int], existing: int | None
) -> int:
    client = clients(ctx).get(row["clientid"])
    if client is None:
        raise Refused(f"its client #{row['clientid']} was not imported")
    amount = money(row["amount"])
    if amount < 0 and row["relid"]:
        invoice_id = invoices.get(str(row["relid"]))
        applied = _applied_entry(invoice_id) if invoice_id else None
        if applied is not None:
            return applied
    if amount == 0:
        raise Refused("moves no credit")
    client_id, currency = client
    entry = db.session.get(CreditEntry, existing) if existing else None
    if entry is None or entry.reason is CreditReason.APPLIED:
        entry = CreditEntry(client_id=client_id, currency=currency, reason=CreditReason.MANUAL)
        db.session.add(entry)
    entry.amount = amount
    entry.description = (row["description"] or "").strip() or "WHMCS"
    entry.created_at = moment(ctx, row["date"]) or ctx.now
    db.session.flush()
    return entry.id


def _balance(ctx: ImportContext) -> None:
    """Make every imported client's balance WHMCS's, with a correction where they differ."""
    ledger: dict[tuple[int, str], Decimal] = {
        (client_id, currency): amount
        for client_id, currency, amount in db.session.execute(
            select(
                CreditEntry.client_id, CreditEntry.currency, func.sum(CreditEntry.amount)
            ).group_by(CreditEntry.client_id, CreditEntry.currency)
        ).all()
    }
    known = clients(ctx)
    for row in ctx.source.query("SELECT id, credit FROM tblclients"):
        client = known.get(row["id"])
        if client is None:
            continue
        client_id, currency = client
        wanted = money(row["credit"])
        have = ledger.get((client_id, currency), ZERO)
        if have == wanted:
            continue
        difference = wanted - have
        db.session.add(
            CreditEntry(
                client_id=client_id,
                currency=currency,
                amount=difference,
                reason=CreditReason.CORRECTION,
                description=(f"WHMCS: the balance was {wanted}, its credit log adds up to {have}"),
                created_at=ctx.now,
            )
        )
        ctx.report.refused_value(
            "tblclients",
            row["id"],
            "credit",
            f"balance {wanted} {currency} but the credit log adds up to {have}: "
            f"a correction of {difference} makes it {wanted}",
        )
    db.session.flush()


def totals(ctx: ImportContext) -> None:
    for row in per_currency(
        ctx,
        "SELECT COALESCE(cur.code, :fallback) AS code, SUM(c.credit) AS credit FROM tblclients c "
        "LEFT JOIN tblcurrencies cur ON cur.id = c.currency GROUP BY code",
    ):
        ctx.report.source.add("credit total", row["code"], money(row["credit"]))
    for currency, amount in db.session.execute(
        select(CreditEntry.currency, func.sum(CreditEntry.amount))
        .where(CreditEntry.client_id.in_(imported(ctx, "tblclients")))
        .group_by(CreditEntry.currency)
    ).all():
        ctx.report.imported.add("credit total", currency, money(amount))
    both_sides(ctx, "credit total")
