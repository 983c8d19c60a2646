"""Income: the money received, on a cash basis — by day, month or year, by payment method, by
product and product group — with its VAT, and refunds and credit notes shown on their own.

Definitions (docs/reports.md, "Income"):

- **Payments received** — payments (kind ``payment``) by their payment date, as the bank or the
  gateway received them, VAT included (gross).
- **Refunds paid out** — refund payments (kind ``refund``, negative) by their date. A refund to
  the credit balance moves no money and is not here.
- **Net received** = payments received + refunds paid out: what ``income_total`` and the
  dashboard call income.
- **VAT** — the VAT inside the money received, from the issued documents: each payment's
  allocation to an invoice carries the invoice's share of VAT (allocation × invoice VAT / invoice
  total); a refund under a credit note takes off the note's share. Money not allocated to an
  invoice (a top-up left on the credit balance) carries none until an invoice takes it — it is
  then counted in that invoice's VAT report, not here.
- **Credit notes issued** — the total of the credit notes issued in the period (negative): a
  correction of what was invoiced, not a movement of money; shown beside the income so that a
  period of corrections is visible.
- **By product / product group** — each allocation is spread over the invoice's lines in
  proportion to their totals; lines without a service are "Other"; what was received but is not
  allocated to an invoice (credit balance) and refunds paid out are rows of their own, so the
  rows add up to the net received.

Every figure is a ``SUM ... GROUP BY`` in the database; Python only rounds the sums.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased
from wtforms import SelectField

from portal.accounts.models import Client
from portal.billing import round_money
from portal.catalog.models import Product, ProductGroup
from portal.core.extensions import db
from portal.invoicing.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentKind,
)
from portal.orders.models import Service
from portal.platform.report_filters import ReportFilters, add_months
from portal.platform.reports import Chart, Column, Report, ReportResult, month_label
from portal.reports.periods import Grain, bucket, buckets, months
from portal.reports.shares import prorated

ZERO = Decimal(0)

GROUPINGS = [
    ("month", _l("Month")),
    ("day", _l("Day")),
    ("year", _l("Year")),
    ("method", _l("Payment method")),
    ("product", _l("Product")),
    ("product_group", _l("Product group")),
]
PERIOD_GROUPINGS = ("day", "month", "year")
#: Issued credit notes (a cancelled one corrects nothing).
ISSUED_NOTE = and_(Invoice.kind == InvoiceKind.CREDIT_NOTE, Invoice.status == InvoiceStatus.ISSUED)


def _sums(query: Select[Any]) -> dict[Any, Decimal]:
    """``{key: sum}`` of a two-column ``key, SUM(...)`` query."""
    return {key: value or ZERO for key, value in db.session.execute(query)}


def income_total(start: date, end: date) -> dict[str, Decimal]:
    """Net received (payments less refunds paid out) from ``start`` to ``end`` (both
    included), per currency."""
    query = (
        select(Payment.currency, func.sum(Payment.amount))
        .where(Payment.payment_date.between(start, end))
        .group_by(Payment.currency)
    )
    return {
        currency: round_money(total or ZERO, currency)
        for currency, total in db.session.execute(query)
    }


def income_by_month(
    first_month: date, months_count: int, currency: str
) -> list[tuple[date, Decimal]]:
    """Net received per month in ``currency``: ``months_count`` months from ``first_month``'s,
    months without payments as zero."""
    first = first_month.replace(day=1)
    last = add_months(first, months_count) - timedelta(days=1)
    month = bucket(Payment.payment_date, Grain.MONTH)
    sums = _sums(
        select(month, func.sum(Payment.amount))
        .where(Payment.payment_date.between(first, last), Payment.currency == currency)
        .group_by(month)
    )
    return [(m, round_money(sums.get(m, ZERO), currency)) for m in months(first, months_count)]


class IncomeFilters(ReportFilters):
    group_by = SelectField(_l("Group by"), choices=GROUPINGS, default="month")


class _Scope:
    """The filters as SQL conditions on the payment (or document) and its client."""

    def __init__(self, filters: Mapping[str, Any], today: date) -> None:
        self.start: date = filters.get("since") or date(today.year, 1, 1)
        self.end: date = filters.get("until") or today
        self.currency: str = filters.get("currency") or ""
        self.manager: int | None = filters.get("manager")
        self.product: int | None = filters.get("product")
        self.group: int | None = filters.get("product_group")

    def payments(self, query: Select[Any], kind: PaymentKind | None) -> Select[Any]:
        """Payments (and refunds) in the period and currency, of ``kind`` (None: both)."""
        query = query.where(
            Payment.payment_date.between(self.start, self.end),
            Payment.currency == self.currency,
        )
        # Every kind spelled out: the income index has the kind before the date.
        query = query.where(Payment.kind.in_([kind] if kind is not None else list(PaymentKind)))
        if self.manager is not None:
            query = query.join(Client, Client.id == Payment.client_id).where(
                Client.manager_id == self.manager
            )
        return query

    def notes(self, query: Select[Any]) -> Select[Any]:
        query = query.where(
            ISSUED_NOTE,
            Invoice.issue_date.between(self.start, self.end),
            Invoice.currency == self.currency,
        )
        if self.manager is not None:
            query = query.join(Client, Client.id == Invoice.client_id).where(
                Client.manager_id == self.manager
            )
        return query

    @property
    def by_product(self) -> bool:
        return self.product is not None or self.group is not None

    def products(self, query: Select[Any]) -> Select[Any]:
        if self.product is not None:
            query = query.where(Product.id == self.product)
        if self.group is not None:
            query = query.where(Product.group_id == self.group)
        return query


def _vat_of_payments(scope: _Scope, key: Any) -> dict[Any, Decimal]:
    """VAT inside the payments received, by ``key`` (an expression on Payment)."""
    allocated = scope.payments(
        select(key, func.sum(prorated(PaymentAllocation.amount, Invoice.tax, Invoice.total)))
        .select_from(Payment)
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id),
        PaymentKind.PAYMENT,
    ).group_by(key)
    totals: dict[Any, Decimal] = defaultdict(lambda: ZERO)
    for part in (_sums(allocated), _vat_of_refunds(scope, key)):
        for k, value in part.items():
            totals[k] += value
    return totals


def _vat_of_refunds(scope: _Scope, key: Any) -> dict[Any, Decimal]:
    """VAT a refund paid out under a credit note takes back: its share of the note's VAT."""
    note = Invoice.__table__.alias("note")
    return _sums(
        scope.payments(
            select(key, func.sum(prorated(Payment.amount, note.c.tax, note.c.total)))
            .select_from(Payment)
            .join(note, note.c.id == Payment.credit_note_id),
            PaymentKind.REFUND,
        ).group_by(key)
    )


def _line_shares(scope: _Scope, key: Any) -> dict[Any, tuple[Decimal, Decimal]]:
    """Allocations of payments received spread over the invoices' lines, summed by ``key``
    (an expression on Product / ProductGroup): ``(gross, VAT)``, in one pass."""
    share = PaymentAllocation.amount
    query = (
        select(
            key,
            func.sum(prorated(share, InvoiceLine.total, Invoice.total)),
            func.sum(prorated(share, InvoiceLine.tax, Invoice.total)),
        )
        .select_from(Payment)
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .outerjoin(Service, Service.id == InvoiceLine.service_id)
        .outerjoin(Product, Product.id == Service.product_id)
        .outerjoin(ProductGroup, ProductGroup.id == Product.group_id)
    )
    query = scope.products(scope.payments(query, PaymentKind.PAYMENT)).group_by(key)
    return {k: (gross or ZERO, vat or ZERO) for k, gross, vat in db.session.execute(query)}


def _by_kind(scope: _Scope, key: Any) -> tuple[dict[Any, Decimal], dict[Any, Decimal]]:
    """Payments received and refunds paid out by ``key``, in one query."""
    query = scope.payments(select(key, Payment.kind, func.sum(Payment.amount)), None)
    received: dict[Any, Decimal] = {}
    refunds: dict[Any, Decimal] = {}
    for k, kind, total in db.session.execute(query.group_by(key, Payment.kind)):
        (received if kind == PaymentKind.PAYMENT else refunds)[k] = total or ZERO
    return received, refunds


def _note_lines(scope: _Scope, key: Any) -> dict[Any, Decimal]:
    """Credit notes' line totals by ``key``. A note's line corrects the line at the same
    position of the invoice it corrects, whose service names the product."""
    corrected = aliased(InvoiceLine)
    query = (
        select(key, func.sum(InvoiceLine.total))
        .select_from(Invoice)
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .outerjoin(
            corrected,
            and_(
                corrected.invoice_id == Invoice.corrects_id,
                corrected.position == InvoiceLine.position,
            ),
        )
        .outerjoin(
            Service, Service.id == func.coalesce(InvoiceLine.service_id, corrected.service_id)
        )
        .outerjoin(Product, Product.id == Service.product_id)
        .outerjoin(ProductGroup, ProductGroup.id == Product.group_id)
    )
    return _sums(scope.products(scope.notes(query)).group_by(key))


def _money(value: Decimal | None, currency: str) -> Decimal:
    return round_money(value or ZERO, currency)


def _totals(rows: Iterable[list[Any]], width: int) -> list[Any]:
    totals: list[Any] = [None] * width
    for row in rows:
        for index, value in enumerate(row):
            if index and isinstance(value, Decimal):
                totals[index] = (totals[index] or ZERO) + value
    return totals


class IncomeReport(Report):
    name = "income"
    label = _l("Income")
    description = _l(
        "Money received (cash basis) with its VAT; refunds paid out and credit notes issued "
        "shown separately."
    )
    filters = IncomeFilters
    order = 10

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        from portal.core import clock

        scope = _Scope(filters, clock.today())
        if not scope.currency:
            from portal.catalog.currencies import default_currency

            scope.currency = default_currency()
        grouping = filters.get("group_by") or "month"
        if grouping in ("product", "product_group") or scope.by_product:
            return self._by_product(scope, grouping)
        return self._cash(scope, grouping)

    def _cash(self, scope: _Scope, grouping: str) -> ReportResult:
        currency = scope.currency
        if grouping in PERIOD_GROUPINGS:
            key = bucket(Payment.payment_date, grouping)
            note_key: Any = bucket(Invoice.issue_date, grouping)
            heading = Column(_("Period"), "month" if grouping == "month" else "date")
            keys: list[Any] = buckets(scope.start, scope.end, grouping)
        else:
            key, note_key = Payment.method, None
            heading = Column(_("Payment method"))
            keys = []
        received, refunds = _by_kind(scope, key)
        vat = _vat_of_payments(scope, key)
        notes = (
            _sums(scope.notes(select(note_key, func.sum(Invoice.total))).group_by(note_key))
            if note_key is not None
            else {}
        )
        if not keys:
            keys = sorted({*received, *refunds, *vat}, key=str)
        rows = []
        for k in keys:
            gross, back = _money(received.get(k), currency), _money(refunds.get(k), currency)
            tax = _money(vat.get(k), currency)
            net = gross + back
            rows.append(
                [
                    k,
                    gross,
                    back,
                    net,
                    tax,
                    net - tax,
                    _money(notes.get(k), currency) if note_key is not None else None,
                ]
            )
        if grouping == "year":
            heading = Column(_("Year"))
            rows = [[k.year, *rest] for k, *rest in rows]
        columns = [
            heading,
            Column(_("Payments received"), "money"),
            Column(_("Refunds paid out"), "money"),
            Column(_("Net received"), "money"),
            Column(_("VAT"), "money"),
            Column(_("Net of VAT"), "money"),
            Column(_("Credit notes issued"), "money"),
        ]
        chart = None
        if rows and grouping in PERIOD_GROUPINGS:
            labels = [month_label(r[0]) if grouping == "month" else str(r[0]) for r in rows]
            chart = Chart(
                "bar",
                labels,
                [
                    (_("Payments received"), [r[1] for r in rows]),
                    (_("Refunds paid out"), [r[2] for r in rows]),
                ],
                title=_("Income, %(currency)s", currency=currency),
                currency=currency,
            )
        return ReportResult(columns, rows, chart, _totals(rows, len(columns)), currency)

    def _by_product(self, scope: _Scope, grouping: str) -> ReportResult:
        currency = scope.currency
        if grouping == "product_group":
            key: Any = ProductGroup.name
            heading = _("Product group")
        else:
            key = Product.name
            heading = _("Product")
        shares = _line_shares(scope, key)
        notes = _note_lines(scope, key)
        other = _("Other (no product)")
        rows = []
        for k in sorted({*shares, *notes}, key=lambda n: (n is None, str(n or ""))):
            gross, vat = shares.get(k, (ZERO, ZERO))
            g, t = _money(gross, currency), _money(vat, currency)
            rows.append([k or other, g, t, g - t, _money(notes.get(k), currency)])
        if not scope.by_product:
            # grouped by the currency, which the scope fixes: one row, the period's sums
            received_by, refunds_by = _by_kind(scope, Payment.currency)
            received, refunds = received_by.get(currency), refunds_by.get(currency)
            refund_vat = _vat_of_refunds(scope, Payment.currency).get(currency)
            unallocated = _money(received, currency) - sum((r[1] for r in rows), ZERO)
            if unallocated:
                no_vat = _money(ZERO, currency)
                label = _("Not allocated to invoices (credit balance)")
                rows.append([label, unallocated, no_vat, unallocated, None])
            back = _money(refunds, currency)
            if back:
                tax = _money(refund_vat, currency)
                rows.append([_("Refunds paid out"), back, tax, back - tax, None])
        columns = [
            Column(heading),
            Column(_("Received"), "money"),
            Column(_("VAT"), "money"),
            Column(_("Net of VAT"), "money"),
            Column(_("Credit notes issued"), "money"),
        ]
        return ReportResult(columns, rows, None, _totals(rows, len(columns)), currency)
