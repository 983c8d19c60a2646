"""tblinvoices + tblinvoiceitems -> invoices with their lines, taxes and the credit applied.

- Numbers: WHMCS's ``invoicenum``, or the invoice id where it is empty (WHMCS prints the id
  then). Imported invoices form the series ``whmcs`` (sequence = the WHMCS id); the portal's
  own counter of the current year is moved past the highest number imported
  (:func:`continue_numbering`), so the first invoice the portal issues follows the last one
  WHMCS issued. A draft has no number, as in the portal.
- Totals: WHMCS keeps ``total`` after the credit applied (subtotal + tax + tax2 - credit); the
  portal's total is before it, and the credit is an "applied" entry of the client's credit
  ledger naming the invoice, as when the portal applies credit itself.
- Taxes: the invoice's tax and tax2 are kept to the kopeck; they are shared between its taxed
  lines (proportionally), whose tax rate is ``taxrate`` (+ ``taxrate2``).
- Status and the paid amount are settled after the payments are in (payments.settle_invoices).
- Written directly, never through the invoicing services: issuing mails the client and fires
  hooks; history must do neither.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from portal.accounts.models import Client
from portal.core.extensions import db
from portal.imports.whmcs.billing import (
    ZERO,
    both_sides,
    clients,
    imported,
    mapped,
    money,
    per_currency,
    split_tax,
    trailing_number,
)
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.values import moment
from portal.invoicing.invoices import buyer_snapshot
from portal.invoicing.models import (
    CreditEntry,
    CreditReason,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
)

TABLE = "tblinvoices"
SERIES = "whmcs"
_STATUSES = {
    "Draft": InvoiceStatus.DRAFT,
    "Cancelled": InvoiceStatus.CANCELLED,
    "Refunded": InvoiceStatus.REFUNDED,
    "Collections": InvoiceStatus.COLLECTIONS,
    "Paid": InvoiceStatus.PAID,
}
#: Item types whose ``relid`` is a tblhosting id / a tblhostingaddons id.
_SERVICE_ITEMS = {"Hosting", "Setup", "PromoHosting", "Upgrade", "ProrataProduct"}
_ADDON_ITEMS = {"Addon", "PromoAddon", "SetupAddon"}


def run(ctx: ImportContext) -> None:
    """Writes flush themselves: nothing half-built is flushed by a lookup in between."""
    with db.session.no_autoflush:
        services = mapped(ctx, "tblhosting")
        addon_services = {
            row["id"]: services.get(str(row["hostingid"]))
            for row in ctx.source.query("SELECT id, hostingid FROM tblhostingaddons")
        }
        taken = set(db.session.scalars(select(Invoice.number).where(Invoice.number.is_not(None))))
        buyers: dict[int, dict[str, Any]] = {}
        lines = _items_by_invoice(ctx)
        for row in ctx.rows(TABLE, changed=("updated_at",)):
            items = lines.take(row["id"])
            ctx.sync(
                TABLE,
                row,
                target_table="invoice",
                extra=(items,),
                write=lambda existing, row=row, items=items: _write(
                    ctx, row, items, services, addon_services, taken, buyers, existing
                ),
                exists=lambda target: db.session.get(Invoice, target) is not None,
            )
        continue_numbering(ctx)


class _ItemStream:
    """tblinvoiceitems read alongside the invoices, both in invoice order: one streamed pass
    over each table instead of a query per invoice."""

    def __init__(self, rows: Iterator[dict[str, Any]]) -> None:
        self._rows = rows
        self._next: dict[str, Any] | None = next(rows, None)

    def take(self, invoice_id: int) -> list[dict[str, Any]]:
        while self._next is not None and self._next["invoiceid"] < invoice_id:
            self._next = next(self._rows, None)
        found = []
        while self._next is not None and self._next["invoiceid"] == invoice_id:
            found.append(self._next)
            self._next = next(self._rows, None)
        return sorted(found, key=lambda item: item["id"])


def _items_by_invoice(ctx: ImportContext) -> _ItemStream:
    return _ItemStream(ctx.source.rows("tblinvoiceitems", order_by="invoiceid"))


def invoice_number(row: dict[str, Any]) -> str:
    return (row["invoicenum"] or "").strip() or str(row["id"])


def _write(
    ctx: ImportContext,
    row: dict[str, Any],
    items: list[dict[str, Any]],
    services: dict[str, int],
    addon_services: dict[int, int | None],
    taken: set[str],
    buyers: dict[int, dict[str, Any]],
    existing: int | None,
) -> int:
    client = clients(ctx).get(row["userid"])
    if client is None:
        raise Refused(f"its client #{row['userid']} was not imported")
    client_id, currency = client
    invoice = db.session.get(Invoice, existing) if existing else None
    draft = row["status"] == "Draft"
    number = None if draft else invoice_number(row)
    if number is not None and (invoice is None or invoice.number != number):
        if number in taken:
            number = f"{number}/WHMCS-{row['id']}"
        if number in taken:
            raise Refused(f"the portal has an invoice numbered {number} already")
    if invoice is None:
        invoice = Invoice(client_id=client_id, currency=currency, created_at=ctx.now)
        db.session.add(invoice)
    elif invoice.lines:
        invoice.lines.clear()
        db.session.flush()
    if number is not None:
        taken.add(number)
    if client_id not in buyers:
        buyers[client_id] = buyer_snapshot(db.session.get(Client, client_id))
    tax = money(row["tax"]) + money(row["tax2"])
    subtotal, credit = money(row["subtotal"]), money(row["credit"])
    invoice.client_id, invoice.currency = client_id, currency
    invoice.status = _STATUSES.get(row["status"], InvoiceStatus.UNPAID)
    invoice.series = None if draft else SERIES
    invoice.sequence = None if draft else int(row["id"])
    invoice.number = number
    invoice.issue_date = None if draft else row["date"]
    invoice.tax_date = None if draft else row["date"]
    invoice.due_date = row["duedate"]
    paid_at = row["datepaid"]
    invoice.paid_date = paid_at.date() if hasattr(paid_at, "date") else paid_at
    invoice.subtotal = subtotal
    invoice.discount = ZERO
    invoice.tax = tax
    invoice.total = subtotal + tax
    invoice.amount_paid = ZERO  # settled from the payments and the credit afterwards
    invoice.buyer = buyers[client_id]
    invoice.notes = row["notes"] or ""
    invoice.issued_at = None if draft else moment(ctx, row["date"])
    if row["created_at"]:
        invoice.created_at = moment(ctx, row["created_at"]) or invoice.created_at
    _lines(invoice, row, items, tax, services, addon_services)
    db.session.flush()
    _applied_credit(ctx, invoice, credit, row)
    return invoice.id


def _lines(
    invoice: Invoice,
    row: dict[str, Any],
    items: list[dict[str, Any]],
    tax: Decimal,
    services: dict[str, int],
    addon_services: dict[int, int | None],
) -> None:
    rate = money(row["taxrate"]) + money(row["taxrate2"])
    taxed = [money(item["amount"]) if item["taxed"] else ZERO for item in items]
    shares = split_tax(tax, taxed)
    for position, (item, share) in enumerate(zip(items, shares, strict=True)):
        amount = money(item["amount"])
        if item["type"] in _SERVICE_ITEMS:
            service_id = services.get(str(item["relid"]))
        elif item["type"] in _ADDON_ITEMS:
            service_id = addon_services.get(item["relid"])
        else:
            service_id = None
        invoice.lines.append(
            InvoiceLine(
                position=position,
                kind="promo" if item["type"].startswith("Promo") else "charge",
                description=item["description"] or item["type"] or "—",
                details=[item["notes"]] if item["notes"] else [],
                service_id=service_id,
                quantity=Decimal(1),
                unit_price=amount,
                amount=amount,
                tax_percent=rate if item["taxed"] and rate else None,
                tax_inclusive=False,
                net=amount,
                tax=share,
                total=amount + share,
            )
        )


def _applied_credit(
    ctx: ImportContext, invoice: Invoice, credit: Decimal, row: dict[str, Any]
) -> None:
    """The credit WHMCS applied to the invoice, as the applied entry of the credit ledger."""
    entry = db.session.scalar(
        select(CreditEntry).where(
            CreditEntry.invoice_id == invoice.id, CreditEntry.reason == CreditReason.APPLIED
        )
    )
    if credit <= 0:
        if entry is not None:
            db.session.delete(entry)
        return
    if entry is None:
        entry = CreditEntry(
            client_id=invoice.client_id,
            currency=invoice.currency,
            reason=CreditReason.APPLIED,
            invoice_id=invoice.id,
            created_at=moment(ctx, row["datepaid"] or row["date"]) or ctx.now,
        )
        db.session.add(entry)
    entry.amount = -credit
    entry.description = f"WHMCS: credit applied to invoice {invoice.number or row['id']}"


def continue_numbering(ctx: ImportContext) -> None:
    """Move the portal's counter of the current year past the highest imported number."""
    highest = 0
    for row in ctx.source.query(
        "SELECT id, invoicenum FROM tblinvoices WHERE status <> 'Draft' ORDER BY id DESC"
    ):
        highest = max(highest, trailing_number(invoice_number(row)) or 0)
    if not highest:
        return
    series = str(ctx.now.year)
    current = db.session.get(InvoiceCounter, series)
    if current is None:
        db.session.add(InvoiceCounter(series=series, next_number=highest + 1))
    elif current.next_number <= highest:
        current.next_number = highest + 1


def totals(ctx: ImportContext) -> None:
    """Invoices and their totals before credit (subtotal + tax + tax2) per currency."""
    for row in per_currency(
        ctx,
        "SELECT COALESCE(cur.code, :fallback) AS code, COUNT(*) AS n, "
        "SUM(i.subtotal + i.tax + i.tax2) AS total FROM tblinvoices i "
        "JOIN tblclients c ON c.id = i.userid LEFT JOIN tblcurrencies cur ON cur.id = c.currency "
        "GROUP BY code",
    ):
        ctx.report.source.add("invoices total", row["code"], money(row["total"]))
    ctx.report.source.count("invoices", int(ctx.source.scalar("SELECT COUNT(*) FROM tblinvoices")))
    count = 0
    for currency, number, amount in db.session.execute(
        select(Invoice.currency, func.count(), func.sum(Invoice.total))
        .where(Invoice.id.in_(imported(ctx, TABLE)))
        .group_by(Invoice.currency)
    ).all():
        count += number
        ctx.report.imported.add("invoices total", currency, money(amount))
    ctx.report.imported.count("invoices", count)
    both_sides(ctx, "invoices total")
