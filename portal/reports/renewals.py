"""Renewals: the services due in the next days with what they are expected to bring, and the
share of the services due in a month that were renewed.

A renewal is a new period of a running recurring service. The billing run invoices a period
some days before it starts ("invoice days before due") and moves the service's next due date
on, so the coming renewals are of two kinds: periods already invoiced (a ``billed_period`` row
with its invoice, still unpaid or paid in advance) and periods not invoiced yet (the service's
``next_due_date``). Both are listed; the amount is the service's price per period (staff's
override, or the recurring amount with its options) plus its active add-ons, before tax and a
client's personal discount, which the invoice applies (Automation → forecast shows those).

Renewal rate of a month: of the periods due to start in it, the share whose invoice is paid.
Due are the periods the billing run invoiced for that month, and the periods that were never
invoiced: services that ended with their next due date in that month (terminated at the end of
their period, or cut off before the run reached them), and running services whose next due date
has passed uninvoiced. A period starting after today is not counted yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal, null, or_, select, type_coerce, union_all
from wtforms import IntegerField
from wtforms.validators import NumberRange

from portal.accounts.models import Client
from portal.catalog.models import Product
from portal.core.clock import today as business_today
from portal.core.column_types import MoneyType
from portal.core.extensions import db
from portal.invoicing.models import BilledPeriod, Invoice, InvoiceStatus
from portal.invoicing.models.invoice import INVOICE_STATUS_LABELS
from portal.orders.models import Service, ServiceAddon
from portal.platform.report_filters import ReportFilters, add_months, month_start
from portal.platform.reports import Chart, Column, Link, Report, ReportResult, short_month_label
from portal.reports.mrr import (
    ENDED,
    RECURRING_CYCLES,
    RUNNING,
    MonthlyFilters,
    Scope,
    by_month,
    month_end,
    months_of,
    percent,
    scope_of,
)

EVERYTHING = Scope()
#: The page lists at most this many renewals (the totals count them all); narrow the filters.
MAX_ROWS = 5000


@dataclass(frozen=True)
class DueRenewal:
    due: date
    client_id: int
    client: str
    service_id: int
    product: str
    currency: str
    amount: Decimal
    #: The renewal invoice when the period is already invoiced.
    invoice_id: int | None
    invoice_number: str | None
    invoice_status: InvoiceStatus | None


def addon_amounts() -> Any:
    """Per service, the sum of its running add-ons (a subquery to join)."""
    return (
        select(
            ServiceAddon.service_id.label("service_id"),
            type_coerce(func.sum(ServiceAddon.recurring_amount), MoneyType()).label("amount"),
        )
        .where(ServiceAddon.status.in_(RUNNING))
        .group_by(ServiceAddon.service_id)
        .subquery()
    )


def _scoped(query: Any, scope: Scope) -> Any:
    if scope.currency:
        query = query.where(Service.currency == scope.currency)
    if scope.product_id is not None:
        query = query.where(Service.product_id == scope.product_id)
    if scope.manager_id is not None:
        query = query.where(Client.manager_id == scope.manager_id)
    return query


def _due(today: date, days: int, scope: Scope) -> Any:
    """The coming renewals, invoiced and not yet, as one subquery."""
    last = today + timedelta(days=days)
    addons = addon_amounts()
    columns = (
        Client.id.label("client_id"),
        Client.company,
        Client.first_name,
        Client.last_name,
        Service.id.label("service_id"),
        Product.name.label("product"),
        Service.currency,
        type_coerce(
            func.coalesce(Service.price_override, Service.recurring_amount)
            + func.coalesce(addons.c.amount, 0),
            MoneyType(),
        ).label("amount"),
    )
    running = and_(Service.status.in_(RUNNING), Service.cycle.in_(RECURRING_CYCLES))
    invoiced = (
        select(
            BilledPeriod.period_start.label("due"),
            *columns,
            Invoice.id.label("invoice_id"),
            Invoice.number.label("number"),
            Invoice.status.label("status"),
        )
        .join(Service, Service.id == BilledPeriod.service_id)
        .join(Invoice, Invoice.id == BilledPeriod.invoice_id)
        .where(
            running,
            BilledPeriod.period_start.between(today, last),
            Invoice.status.not_in((InvoiceStatus.CANCELLED, InvoiceStatus.DRAFT)),
        )
    )
    coming = (
        select(
            Service.next_due_date.label("due"),
            *columns,
            null().label("invoice_id"),
            null().label("number"),
            null().label("status"),
        )
        .select_from(Service)
        .where(
            running,
            Service.terminate_at_period_end.is_(False),
            Service.next_due_date.between(today, last),
        )
    )
    queries = []
    for query in (invoiced, coming):
        query = (
            query.join(Client, Client.id == Service.client_id)
            .join(Product, Product.id == Service.product_id)
            .outerjoin(addons, addons.c.service_id == Service.id)
        )
        queries.append(_scoped(query, scope))
    return union_all(*queries).subquery()


def due_totals(today: date, days: int, scope: Scope = EVERYTHING) -> dict[str, Decimal]:
    """Expected amount per currency of every coming renewal (one aggregate query)."""
    both = _due(today, days, scope)
    return {
        currency: Decimal(amount or 0)
        for currency, amount in db.session.execute(
            select(both.c.currency, type_coerce(func.sum(both.c.amount), MoneyType()))
            .group_by(both.c.currency)
            .order_by(both.c.currency)
        )
    }


def due_renewals(
    today: date, days: int, scope: Scope = EVERYTHING, limit: int | None = None
) -> list[DueRenewal]:
    """Periods of running services starting from ``today`` to ``today + days``, by due date;
    the first ``limit`` of them when given."""
    both = _due(today, days, scope)
    query = select(both).order_by(both.c.due, both.c.client_id, both.c.service_id)
    if limit is not None:
        query = query.limit(limit)
    result = []
    for row in db.session.execute(query):
        name = row.company or " ".join(p for p in (row.first_name, row.last_name) if p)
        result.append(
            DueRenewal(
                row.due,
                row.client_id,
                name,
                row.service_id,
                row.product,
                row.currency,
                Decimal(row.amount),
                row.invoice_id,
                row.number,
                InvoiceStatus(row.status) if row.status else None,
            )
        )
    return result


def totals(renewals: list[DueRenewal]) -> dict[str, Decimal]:
    """Expected amount per currency."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for renewal in renewals:
        sums[renewal.currency] += renewal.amount
    return dict(sorted(sums.items()))


# --- renewal rate -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenewalRate:
    month: date
    currency: str
    due: int
    renewed: int

    @property
    def rate(self) -> Decimal | None:
        return percent(self.renewed, self.due)


def renewal_rates(
    first_month: date, months: int, today: date, scope: Scope = EVERYTHING
) -> list[RenewalRate]:
    """Per month and currency: periods due and periods renewed (invoice paid), months after
    today left out; one aggregate query."""
    wanted = [add_months(month_start(first_month), i) for i in range(months)]
    wanted = [m for m in wanted if m <= today]
    if not wanted:
        return []
    first, last = wanted[0], min(month_end(wanted[-1]), today)

    def month_of(day: Any) -> Any:
        return case(*((day <= month_end(m), i) for i, m in enumerate(wanted)), else_=None)

    invoiced = (
        select(
            Service.currency.label("currency"),
            month_of(BilledPeriod.period_start).label("month"),
            case((Invoice.status == InvoiceStatus.PAID, 1), else_=0).label("renewed"),
        )
        .select_from(BilledPeriod)
        .join(Service, Service.id == BilledPeriod.service_id)
        .outerjoin(Invoice, Invoice.id == BilledPeriod.invoice_id)
        .where(BilledPeriod.period_start.between(first, last))
    )
    lapsed = select(
        Service.currency.label("currency"),
        month_of(Service.next_due_date).label("month"),
        literal(0).label("renewed"),
    ).where(
        Service.cycle.in_(RECURRING_CYCLES),
        Service.next_due_date.between(first, last),
        or_(
            Service.status.in_(ENDED),
            and_(Service.status.in_(RUNNING), Service.next_due_date < today),
        ),
    )
    queries = []
    for query in (invoiced, lapsed):
        if scope.manager_id is not None:
            query = query.join(Client, Client.id == Service.client_id)
        queries.append(_scoped(query, scope))
    both = union_all(*queries).subquery()
    rows = db.session.execute(
        select(both.c.month, both.c.currency, func.count(), func.sum(both.c.renewed))
        .group_by(both.c.month, both.c.currency)
        .order_by(both.c.month, both.c.currency)
    )
    return [
        RenewalRate(wanted[int(index)], currency, int(due), int(renewed or 0))
        for index, currency, due, renewed in rows
    ]


# --- the reports --------------------------------------------------------------------------------


class RenewalFilters(ReportFilters):
    period = None
    since = None
    until = None
    product_group = None
    days = IntegerField(
        _l("Due in the next days"), default=30, validators=[NumberRange(min=1, max=366)]
    )


class RenewalsReport(Report):
    name = "renewals"
    label = _l("Renewals due")
    description = _l(
        "Services whose next period starts in the coming days, with the price per period "
        "(before tax and personal discounts) and the renewal invoice when it is issued."
    )
    filters = RenewalFilters
    order = 40

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        today = business_today()
        scope = scope_of(filters)
        days = int(filters.get("days") or 30)
        due = due_renewals(today, days, scope, limit=MAX_ROWS)
        rows = [
            [
                r.due,
                Link(r.client, url_for("admin_clients.summary", client_id=r.client_id)),
                Link(
                    f"#{r.service_id} {r.product}",
                    url_for("admin_services.view", service_id=r.service_id),
                ),
                r.amount,
                r.currency,
                Link(
                    r.invoice_number, url_for("admin_billing.invoice_view", invoice_id=r.invoice_id)
                )
                if r.invoice_id and r.invoice_number
                else None,
                str(INVOICE_STATUS_LABELS[r.invoice_status])
                if r.invoice_status
                else _("Not invoiced yet"),
            ]
            for r in due
        ]
        columns = [
            Column(_("Due date"), "date"),
            Column(_("Client"), "link"),
            Column(_("Service"), "link"),
            Column(_("Amount"), "money", currency_column=4),
            Column(_("Currency")),
            Column(_("Invoice"), "link"),
            Column(_("Invoice status")),
        ]
        currency = scope.currency or ""
        total = due_totals(today, days, scope).get(currency, Decimal(0))
        return ReportResult(
            columns, rows, None, [None, None, None, total, currency, None, None], currency
        )


class RenewalRateFilters(MonthlyFilters):
    product_group = None


class RenewalRateReport(Report):
    name = "renewal_rate"
    label = _l("Renewal rate")
    description = _l(
        "Per month: the periods of services due to start in it and the share renewed (their "
        "invoice paid); periods never invoiced because the service ended count as not renewed."
    )
    filters = RenewalRateFilters
    order = 41

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        today = business_today()
        scope = scope_of(filters)
        first, count = months_of(filters, today)
        rows = []
        for month, item in by_month(renewal_rates(first, count, today, scope), first, count):
            due, renewed = (item.due, item.renewed) if item else (0, 0)
            rows.append([month, due, renewed, due - renewed, percent(renewed, due)])
        columns = [
            Column(_("Month"), "month"),
            Column(_("Periods due"), "number"),
            Column(_("Renewed"), "number"),
            Column(_("Not renewed"), "number"),
            Column(_("Renewal rate"), "percent"),
        ]
        due_total, renewed_total = sum(r[1] for r in rows), sum(r[2] for r in rows)
        totals_row = [
            None,
            due_total,
            renewed_total,
            due_total - renewed_total,
            percent(renewed_total, due_total),
        ]
        chart = None
        if rows:
            chart = Chart(
                "bar",
                [short_month_label(r[0]) for r in rows],
                [(_("Renewed"), [r[2] for r in rows]), (_("Not renewed"), [r[3] for r in rows])],
                title=_("Renewals per month"),
            )
        return ReportResult(columns, rows, chart, totals_row, scope.currency)
