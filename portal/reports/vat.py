"""VAT (sales tax liability): the tax of the issued documents per rate and period — invoices
and, taking it back, credit notes — which adds up to the VAT printed on those documents.

A document counts on its tax date (the issue date when it has none); drafts, cancelled invoices
and add-funds invoices (a prepayment to the credit balance, not a sale: the invoice its money
later pays carries the VAT) are not documents of a sale and are left out. The rate is the line's
(``tax_percent``; lines without VAT form a row "without VAT").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from wtforms import SelectField

from portal.accounts.models import Client
from portal.billing import round_money
from portal.core.extensions import db
from portal.invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from portal.platform.report_filters import ReportFilters
from portal.platform.reports import Chart, Column, Report, ReportResult, month_label
from portal.reports.periods import Grain, bucket
from portal.web.formatting import plain_number

ZERO = Decimal(0)

#: The documents of a sale: issued invoices (paid or not) and issued credit notes.
SALE_DOCUMENT = or_(
    and_(
        Invoice.kind == InvoiceKind.INVOICE,
        Invoice.status.not_in((InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED)),
    ),
    and_(Invoice.kind == InvoiceKind.CREDIT_NOTE, Invoice.status == InvoiceStatus.ISSUED),
)
TAX_DATE = func.coalesce(Invoice.tax_date, Invoice.issue_date)


class VatFilters(ReportFilters):
    product = None
    product_group = None
    group_by = SelectField(
        _l("Group by"),
        choices=[("month", _l("Month")), ("quarter", _l("Quarter")), ("year", _l("Year"))],
        default="month",
    )


def vat_by_rate(
    start: date,
    end: date,
    currency: str,
    grain: Grain | str = Grain.MONTH,
    manager: int | None = None,
) -> list[tuple[date, Decimal | None, InvoiceKind, Decimal, Decimal, Decimal]]:
    """``(period, rate, kind, net, tax, total)`` sums of the document lines, in the database."""
    period = bucket(TAX_DATE, grain)
    query = (
        select(
            period,
            InvoiceLine.tax_percent,
            Invoice.kind,
            func.sum(InvoiceLine.net),
            func.sum(InvoiceLine.tax),
            func.sum(InvoiceLine.total),
        )
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(SALE_DOCUMENT, TAX_DATE.between(start, end), Invoice.currency == currency)
        .group_by(period, InvoiceLine.tax_percent, Invoice.kind)
    )
    if manager is not None:
        query = query.join(Client, Client.id == Invoice.client_id).where(
            Client.manager_id == manager
        )
    return [tuple(row) for row in db.session.execute(query)]  # type: ignore[misc]


def _quarter(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


class VatReport(Report):
    name = "vat"
    label = _l("VAT (sales tax liability)")
    description = _l(
        "VAT of the issued invoices less the credit notes, per rate and period (by the "
        "documents' tax date)."
    )
    filters = VatFilters
    order = 20

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        from portal.catalog.currencies import default_currency
        from portal.core import clock

        today = clock.today()
        start = filters.get("since") or date(today.year, 1, 1)
        end = filters.get("until") or today
        currency = filters.get("currency") or default_currency()
        grouping = filters.get("group_by") or "month"
        grain = Grain.YEAR if grouping == "year" else Grain.MONTH
        sums: dict[tuple[date, Decimal | None], list[Decimal]] = {}
        for period, rate, kind, net, tax, _total in vat_by_rate(
            start, end, currency, grain, filters.get("manager")
        ):
            if grouping == "quarter":
                period = _quarter(period)
            cells = sums.setdefault((period, rate), [ZERO] * 6)
            offset = 0 if kind == InvoiceKind.INVOICE else 2
            cells[offset] += net or ZERO
            cells[offset + 1] += tax or ZERO
            cells[4] += net or ZERO
            cells[5] += tax or ZERO
        rows = []
        for (period, rate), cells in sorted(
            sums.items(), key=lambda item: (item[0][0], item[0][1] is None, item[0][1] or ZERO)
        ):
            money = [round_money(value, currency) for value in cells]
            label: Any = period
            if grouping == "quarter":
                label = f"{period.year} Q{(period.month - 1) // 3 + 1}"
            elif grouping == "year":
                label = period.year
            rows.append([label, rate, *money, money[4] + money[5]])
        columns = [
            Column(_("Period"), "month" if grouping == "month" else "text"),
            Column(_("VAT rate"), "percent"),
            Column(_("Invoices: net"), "money"),
            Column(_("Invoices: VAT"), "money"),
            Column(_("Credit notes: net"), "money"),
            Column(_("Credit notes: VAT"), "money"),
            Column(_("Net"), "money"),
            Column(_("VAT payable"), "money"),
            Column(_("Total with VAT"), "money"),
        ]
        totals: list[Any] = [None, None]
        for index in range(2, len(columns)):
            totals.append(sum((row[index] for row in rows), ZERO))
        chart = None
        periods = (
            sorted({row[0] for row in rows}, key=str)
            if grouping != "month"
            else sorted({row[0] for row in rows})
        )
        if periods:
            rates = sorted({row[1] for row in rows}, key=lambda r: (r is None, r or ZERO))
            series = []
            for rate in rates:
                by_period = {row[0]: row[7] for row in rows if row[1] == rate}
                name = f"{plain_number(rate)} %" if rate is not None else _("without VAT")
                series.append((name, [by_period.get(p, ZERO) for p in periods]))
            labels = [month_label(p) if grouping == "month" else str(p) for p in periods]
            title = _("VAT payable, %(c)s", c=currency)
            chart = Chart("stacked", labels, series, title=title, currency=currency)
        return ReportResult(columns, rows, chart, totals, currency)
