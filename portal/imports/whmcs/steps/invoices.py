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

from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select

from portal.accounts.models import Client
from portal.core.extensions import db
from portal.imports.whmcs.billing import (
    ZERO,
    both_sides,
    clients,
    grouped,
    imported,
    mapped,
    money,
    per_currency,
    split_tax,
    trailing_number,
)
from portal.imports.whmcs.bulk import BatchSync
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.values import moment
from portal.invoicing.invoices import buyer_snapshot
from portal.invoicing.models import (
    CreditEntry,
    CreditReason,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
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
    """New invoices go in batches (bulk.BatchSync); a changed one is rewritten alone."""
    with db.session.no_autoflush:
        services = mapped(ctx, "tblhosting")
        addon_services = {
            row["id"]: services.get(str(row["hostingid"]))
            for row in ctx.source.query("SELECT id, hostingid FROM tblhostingaddons")
        }
        values = _Values(ctx, services, addon_services)
        batch = BatchSync(
            ctx,
            TABLE,
            target_table="invoice",
            write=values.write,
            build=values.build,
            insert=_insert,
            existing_ids=set(db.session.scalars(select(Invoice.id))),
        )
        lines = _Items(ctx)
        for row in ctx.rows(TABLE, changed=("updated_at",)):
            items = lines.take(row["id"])
            batch.add(row, extra=(items,), data=items)
        batch.flush()
        continue_numbering(ctx)


class _Items:
    """tblinvoiceitems fetched a block of invoice ids at a time, as the invoices come in id
    order: a query per 2 000 invoices instead of one per invoice, and no second cursor left
    open beside the invoices' stream."""

    BLOCK = 2000

    def __init__(self, ctx: ImportContext) -> None:
        self._source = ctx.source
        self._upto = -1
        self._block: dict[int, list[dict[str, Any]]] = {}

    def take(self, invoice_id: int) -> list[dict[str, Any]]:
        if invoice_id > self._upto:
            rows = self._source.query(
                "SELECT * FROM tblinvoiceitems WHERE invoiceid >= :low AND invoiceid < :high "
                "ORDER BY invoiceid, id",
                low=invoice_id,
                high=invoice_id + self.BLOCK,
            )
            self._block = grouped(rows, "invoiceid")
            self._upto = invoice_id + self.BLOCK - 1
        return self._block.pop(invoice_id, [])


def invoice_number(row: dict[str, Any]) -> str:
    return (row["invoicenum"] or "").strip() or str(row["id"])


class _Values:
    """An invoice's portal values from its WHMCS row and items: for the bulk insert of new
    invoices (:meth:`build`) and for rewriting a changed one (:meth:`write`)."""

    def __init__(
        self,
        ctx: ImportContext,
        services: dict[str, int],
        addon_services: dict[int, int | None],
    ) -> None:
        self.ctx = ctx
        self.services = services
        self.addon_services = addon_services
        self.taken = set(
            db.session.scalars(select(Invoice.number).where(Invoice.number.is_not(None)))
        )
        self.buyers: dict[int, dict[str, Any]] = {}

    def build(
        self, row: dict[str, Any], items: list[dict[str, Any]], own: str | None = None
    ) -> Built:
        """The values of an invoice row; refuses an invoice of a client not imported, or whose
        number the portal holds already. ``own``: the number a changed invoice has."""
        ctx = self.ctx
        client = clients(ctx).get(row["userid"])
        if client is None:
            raise Refused(f"its client #{row['userid']} was not imported")
        client_id, currency = client
        draft = row["status"] == "Draft"
        number = None if draft else invoice_number(row)
        if number is not None and number != own:
            if number in self.taken:
                number = f"{number}/WHMCS-{row['id']}"
            if number in self.taken:
                raise Refused(f"the portal has an invoice numbered {number} already")
            self.taken.add(number)
        if client_id not in self.buyers:
            self.buyers[client_id] = buyer_snapshot(db.session.get(Client, client_id))
        tax = money(row["tax"]) + money(row["tax2"])
        subtotal = money(row["subtotal"])
        paid_at = row["datepaid"]
        invoice = {
            "client_id": client_id,
            "currency": currency,
            "kind": InvoiceKind.INVOICE,
            "status": _STATUSES.get(row["status"], InvoiceStatus.UNPAID),
            "series": None if draft else SERIES,
            "sequence": None if draft else int(row["id"]),
            "number": number,
            "issue_date": None if draft else row["date"],
            "tax_date": None if draft else row["date"],
            "due_date": row["duedate"],
            "paid_date": paid_at.date() if isinstance(paid_at, datetime) else paid_at,
            "subtotal": subtotal,
            "discount": ZERO,
            "tax": tax,
            "total": subtotal + tax,
            "amount_paid": ZERO,  # settled from the payments and the credit afterwards
            "buyer": self.buyers[client_id],
            "notes": row["notes"] or "",
            "issued_at": None if draft else moment(ctx, row["date"]),
            "created_at": moment(ctx, row["created_at"] or row["date"]) or ctx.now,
        }
        return Built(
            invoice,
            _lines(row, items, tax, self.services, self.addon_services),
            money(row["credit"]),
            moment(ctx, row["datepaid"] or row["date"]) or ctx.now,
        )

    def write(self, row: dict[str, Any], existing: int | None, items: list[dict[str, Any]]) -> int:
        """A changed invoice rewritten from its WHMCS row (or one whose portal row is gone)."""
        invoice = db.session.get(Invoice, existing) if existing else None
        built = self.build(row, items, invoice.number if invoice else None)
        if invoice is None:
            invoice = Invoice(**built.invoice)
            db.session.add(invoice)
        else:
            for name, value in built.invoice.items():
                if name != "created_at":
                    setattr(invoice, name, value)
            invoice.lines.clear()
            db.session.flush()
        invoice.lines = [InvoiceLine(**line) for line in built.lines]
        db.session.flush()
        _applied_credit(invoice, built.credit, built.credited_at)
        return invoice.id


class Built(NamedTuple):
    invoice: dict[str, Any]
    lines: list[dict[str, Any]]
    #: The credit WHMCS applied to it, and when.
    credit: Decimal
    credited_at: datetime


def _insert(built: list[Built]) -> list[int]:
    """New invoices, their lines and their applied credit: a statement per table."""
    ids = list(
        db.session.scalars(
            insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True),
            [one.invoice for one in built],
        )
    )
    lines = [
        {**line, "invoice_id": invoice_id}
        for invoice_id, one in zip(ids, built, strict=True)
        for line in one.lines
    ]
    if lines:
        db.session.execute(insert(InvoiceLine), lines)
    credit = [
        _credit_values(invoice_id, one)
        for invoice_id, one in zip(ids, built, strict=True)
        if one.credit > 0
    ]
    if credit:
        db.session.execute(insert(CreditEntry), credit)
    return ids


def _credit_values(invoice_id: int, built: Built) -> dict[str, Any]:
    """The applied entry of the credit ledger for the credit WHMCS applied to an invoice."""
    return {
        "client_id": built.invoice["client_id"],
        "currency": built.invoice["currency"],
        "amount": -built.credit,
        "reason": CreditReason.APPLIED,
        "invoice_id": invoice_id,
        "description": (
            f"WHMCS: credit applied to invoice {built.invoice['number'] or invoice_id}"
        ),
        "created_at": built.credited_at,
    }


def _lines(
    row: dict[str, Any],
    items: list[dict[str, Any]],
    tax: Decimal,
    services: dict[str, int],
    addon_services: dict[int, int | None],
) -> list[dict[str, Any]]:
    rate = money(row["taxrate"]) + money(row["taxrate2"])
    taxed = [money(item["amount"]) if item["taxed"] else ZERO for item in items]
    out = []
    for position, (item, share) in enumerate(zip(items, split_tax(tax, taxed), strict=True)):
        amount = money(item["amount"])
        if item["type"] in _SERVICE_ITEMS:
            service_id = services.get(str(item["relid"]))
        elif item["type"] in _ADDON_ITEMS:
            service_id = addon_services.get(item["relid"])
        else:
            service_id = None
        out.append(
            {
                "position": position,
                "kind": "promo" if item["type"].startswith("Promo") else "charge",
                "description": item["description"] or item["type"] or "—",
                "details": [item["notes"]] if item["notes"] else [],
                "service_id": service_id,
                "period_start": None,
                "period_end": None,
                "quantity": Decimal(1),
                "unit": "",
                "unit_price": amount,
                "discount": ZERO,
                "amount": amount,
                "tax_percent": rate if item["taxed"] and rate else None,
                "tax_inclusive": False,
                "net": amount,
                "tax": share,
                "total": amount + share,
            }
        )
    return out


def _applied_credit(invoice: Invoice, credit: Decimal, at: datetime) -> None:
    entry = db.session.scalar(
        select(CreditEntry).where(
            CreditEntry.invoice_id == invoice.id, CreditEntry.reason == CreditReason.APPLIED
        )
    )
    if credit <= 0:
        if entry is not None:
            db.session.delete(entry)
        return
    values = _credit_values(
        invoice.id,
        Built(
            {
                "client_id": invoice.client_id,
                "currency": invoice.currency,
                "number": invoice.number,
            },
            [],
            credit,
            at,
        ),
    )
    if entry is None:
        db.session.add(CreditEntry(**values))
    else:
        entry.amount, entry.description = values["amount"], values["description"]


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
