"""Sales: new clients and orders per month, what promo codes were used for and what they cost,
the clients who paid the most, and the renewals expected in the coming months.

Definitions (each is one aggregate query):

- a new client is counted in the month of its registration; an order in the month it was
  placed, fraud excluded ("accepted" are those staff accepted);
- a promo code's uses are the orders placed with it (cancelled and fraud ones excluded), its
  cost the discount of its promo lines on their first invoices, unless cancelled. A recurring
  code's later discount is part of the service's recurring price and is not counted here;
- income of a client is the money received from it (payments less refunds, by payment date);
- the forecast adds up the recurring amounts of the active and suspended services by the month
  each renewal falls due, every renewal within the horizon (a monthly service counts in every
  month). It is the expected amount of the renewal invoices, before usage and taxes; the due
  services themselves are listed by the renewals report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from portal import billing
from portal.accounts.models import Client
from portal.billing.cycles import Cycle
from portal.catalog.currencies import default_currency
from portal.core import clock as portal_clock
from portal.core.column_types import MoneyType
from portal.core.extensions import db
from portal.invoicing.models import BilledPeriod, Invoice, InvoiceLine, InvoiceStatus, Payment
from portal.orders.models import Order, OrderStatus, PromoCode, Service
from portal.platform.report_filters import ReportFilters, add_months
from portal.platform.reports import (
    Chart,
    Column,
    ColumnKind,
    Report,
    ReportResult,
    client_link,
    short_month_label,
)
from portal.reports.mrr import RECURRING_CYCLES, RUNNING
from portal.reports.periods import bucket, buckets, months
from portal.reports.renewals import addon_amounts

TOP_CLIENTS = 10


def start_of(day: date) -> datetime:
    """Midnight UTC at the start of ``day``: timestamps are compared against it."""
    return datetime.combine(day, time(), tzinfo=UTC)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


@dataclass(frozen=True)
class MonthOfSales:
    month: date
    new_clients: int
    orders: int
    accepted: int


def new_clients_and_orders(since: date, until: date) -> list[MonthOfSales]:
    """Per month of [since, until]: clients registered, orders placed and orders accepted."""
    begin, end = start_of(since), start_of(until.fromordinal(until.toordinal() + 1))
    client_month = bucket(Client.created_at, "month").label("month")
    clients = dict(
        db.session.execute(
            select(client_month, func.count(Client.id))
            .where(Client.created_at >= begin, Client.created_at < end)
            .group_by(client_month)
        ).all()
    )
    order_month = bucket(Order.created_at, "month").label("month")
    orders = {
        month: (placed, accepted)
        for month, placed, accepted in db.session.execute(
            select(
                order_month,
                func.count(Order.id),
                func.sum(case((Order.status == OrderStatus.ACTIVE, 1), else_=0)),
            )
            .where(
                Order.created_at >= begin,
                Order.created_at < end,
                Order.status != OrderStatus.FRAUD,
            )
            .group_by(order_month)
        )
    }
    return [
        MonthOfSales(
            month,
            int(clients.get(month, 0)),
            int(orders.get(month, (0, 0))[0]),
            int(orders.get(month, (0, 0))[1] or 0),
        )
        for month in buckets(since, until, "month")
    ]


@dataclass(frozen=True)
class PromotionUse:
    code: str
    description: str
    currency: str
    uses: int
    #: The discount its promo lines gave on the orders' invoices, in ``currency``.
    cost: Decimal


def promotions(since: date, until: date) -> list[PromotionUse]:
    """Each promo code used in [since, until]: its orders and the discount they got."""
    begin, end = start_of(since), start_of(until.fromordinal(until.toordinal() + 1))
    cost = (
        select(
            InvoiceLine.invoice_id.label("invoice_id"),
            func.sum(InvoiceLine.discount, type_=MoneyType()).label("discount"),
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.kind == billing.LineKind.PROMO.value,
            Invoice.status.not_in((InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED)),
        )
        .group_by(InvoiceLine.invoice_id)
        .subquery("promo_cost")
    )
    rows = db.session.execute(
        select(
            PromoCode.code,
            PromoCode.description,
            Order.currency,
            func.count(Order.id),
            func.sum(cost.c.discount, type_=MoneyType()),
        )
        .join(PromoCode, PromoCode.id == Order.promo_code_id)
        .outerjoin(cost, cost.c.invoice_id == Order.invoice_id)
        .where(
            Order.created_at >= begin,
            Order.created_at < end,
            Order.status.not_in((OrderStatus.CANCELLED, OrderStatus.FRAUD)),
        )
        .group_by(PromoCode.id, PromoCode.code, PromoCode.description, Order.currency)
        .order_by(PromoCode.code, Order.currency)
    )
    return [
        PromotionUse(
            code, description, currency, int(uses), billing.round_money(off or 0, currency)
        )
        for code, description, currency, uses, off in rows
    ]


@dataclass(frozen=True)
class ClientIncome:
    client_id: int
    name: str
    currency: str
    payments: int
    income: Decimal


def top_clients(
    since: date, until: date, currency: str, limit: int = TOP_CLIENTS
) -> list[ClientIncome]:
    """The clients who paid the most in ``currency`` in [since, until] (refunds deducted)."""
    paid = (
        select(
            Payment.client_id.label("client_id"),
            func.count().label("payments"),  # not count(id): the index covers no id
            func.sum(Payment.amount, type_=MoneyType()).label("income"),
        )
        .where(Payment.currency == currency, Payment.payment_date.between(since, until))
        .group_by(Payment.client_id)
        .order_by(func.sum(Payment.amount).desc(), Payment.client_id)
        .limit(limit)
        .subquery("paid")
    )
    rows = db.session.execute(
        select(paid, Client.company, Client.first_name, Client.last_name)
        .join(Client, Client.id == paid.c.client_id)
        .order_by(paid.c.income.desc(), paid.c.client_id)
    )
    return [
        ClientIncome(
            row.client_id,
            row.company or f"{row.first_name} {row.last_name}".strip(),
            currency,
            int(row.payments),
            billing.round_money(row.income, currency),
        )
        for row in rows
    ]


def income_forecast(since: date, count: int) -> dict[date, dict[str, Decimal]]:
    """``{month: {currency: amount}}`` of the renewals falling due in the ``count`` months
    from ``since``'s month (months keyed by their first day), priced as the renewals report
    prices them: the service's price per period plus its running add-ons.

    One query sums the services by cycle, currency and month of their next due date; each of
    those sums then repeats every cycle length (a monthly service renews every month), which
    works on a handful of groups, never on the services. A second one adds the periods the
    billing run has invoiced ahead (their start after ``since``): the next due date has moved
    past them. A next due date already passed counts from its next cycle on."""
    keys = months(since.replace(day=1), count)
    first, last = keys[0], keys[-1]
    addons = addon_amounts()
    amount = func.sum(
        func.coalesce(Service.price_override, Service.recurring_amount)
        + func.coalesce(addons.c.amount, 0),
        type_=MoneyType(),
    )
    running = (Service.status.in_(RUNNING), Service.cycle.in_(RECURRING_CYCLES))
    due_month = bucket(Service.next_due_date, "month").label("month")
    coming = db.session.execute(
        select(Service.cycle, Service.currency, due_month, amount)
        .select_from(Service)
        .outerjoin(addons, addons.c.service_id == Service.id)
        .where(
            *running,
            Service.terminate_at_period_end.is_(False),
            Service.next_due_date < add_months(last, 1),
        )
        .group_by(Service.cycle, Service.currency, due_month)
    )
    forecast: dict[date, dict[str, Decimal]] = {key: defaultdict(Decimal) for key in keys}
    for cycle, currency, month, total in coming:
        step = Cycle(cycle).months or 0
        behind = _month_index(first) - _month_index(month)
        if behind > 0:  # already due: the next renewals come a whole cycle later each
            month = add_months(month, -(-behind // step) * step)
        while month <= last:
            forecast[month][currency] += total or Decimal(0)
            month = add_months(month, step)
    start_month = bucket(BilledPeriod.period_start, "month").label("month")
    invoiced = db.session.execute(
        select(Service.currency, start_month, amount)
        .select_from(BilledPeriod)
        .join(Service, Service.id == BilledPeriod.service_id)
        .join(Invoice, Invoice.id == BilledPeriod.invoice_id)
        .outerjoin(addons, addons.c.service_id == Service.id)
        .where(
            *running,
            BilledPeriod.period_start > since,
            BilledPeriod.period_start < add_months(last, 1),
            Invoice.status.not_in((InvoiceStatus.CANCELLED, InvoiceStatus.DRAFT)),
        )
        .group_by(Service.currency, start_month)
    )
    for currency, month, total in invoiced:
        forecast[month][currency] += total or Decimal(0)
    return {
        key: {c: billing.round_money(v, c) for c, v in sorted(values.items())}
        for key, values in forecast.items()
    }


# --- the reports ---------------------------------------------------------------------------------


class SalesFilters(ReportFilters):
    currency = None
    manager = None
    product_group = None
    product = None


class CurrencyPeriodFilters(ReportFilters):
    manager = None
    product_group = None
    product = None


class ForecastFilters(ReportFilters):
    period = None
    since = None
    until = None
    manager = None
    product_group = None
    product = None
    months = IntegerField(
        _l("Months ahead"), default=12, validators=[Optional(), NumberRange(1, 36)]
    )


def _period(filters: Mapping[str, Any]) -> tuple[date, date]:
    today = portal_clock.today()
    return filters.get("since") or date(today.year, 1, 1), filters.get("until") or today


class NewSalesReport(Report):
    name = "sales"
    label = _l("New clients and orders")
    description = _l(
        "Clients registered and orders placed (fraud excluded) per month; accepted: the "
        "orders staff accepted."
    )
    filters = SalesFilters
    order = 40

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        lines = new_clients_and_orders(*_period(filters))
        columns = [
            Column(_("Month"), ColumnKind.MONTH),
            Column(_("New clients"), ColumnKind.NUMBER),
            Column(_("Orders placed"), ColumnKind.NUMBER),
            Column(_("Orders accepted"), ColumnKind.NUMBER),
        ]
        rows = [[m.month, m.new_clients, m.orders, m.accepted] for m in lines]
        total = [None, *(sum(row[i] for row in rows) for i in (1, 2, 3))]
        chart = Chart(
            "bar",
            [short_month_label(m.month) for m in lines],
            [
                (_("New clients"), [m.new_clients for m in lines]),
                (_("Orders placed"), [m.orders for m in lines]),
            ],
            title=_("New clients and orders"),
        )
        return ReportResult(columns, rows, chart=chart if rows else None, totals=total)


class PromotionsReport(Report):
    name = "promotions"
    label = _l("Promotions")
    description = _l(
        "Orders placed with each promo code (cancelled ones excluded) and the discount their "
        "first invoices gave; a recurring code's later discounts are in the renewal prices."
    )
    filters = CurrencyPeriodFilters
    order = 41

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        currency = filters.get("currency") or default_currency()
        used = [p for p in promotions(*_period(filters)) if p.currency == currency]
        columns = [
            Column(_("Promo code")),
            Column(_("Description")),
            Column(_("Uses"), ColumnKind.NUMBER),
            Column(_("Discount given"), ColumnKind.MONEY),
        ]
        rows = [[p.code, p.description, p.uses, p.cost] for p in used]
        total = [None, None, sum(p.uses for p in used), sum(p.cost for p in used)]
        return ReportResult(columns, rows, totals=total, currency=currency)


class TopClientsReport(Report):
    name = "top_clients"
    label = _l("Top clients by income")
    description = _l("The ten clients who paid the most in the period, refunds deducted.")
    filters = CurrencyPeriodFilters
    order = 42

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        currency = filters.get("currency") or default_currency()
        top = top_clients(*_period(filters), currency)
        columns = [
            Column(_("Place"), ColumnKind.NUMBER),
            Column(_("Client"), ColumnKind.LINK),
            Column(_("Payments"), ColumnKind.NUMBER),
            Column(_("Income"), ColumnKind.MONEY),
        ]
        rows = [
            [place, client_link(c.client_id, c.name), c.payments, c.income]
            for place, c in enumerate(top, 1)
        ]
        chart = Chart(
            "bar",
            [c.name for c in top],
            [(_("Income"), [c.income for c in top])],
            title=_("Top clients by income"),
            currency=currency,
        )
        return ReportResult(columns, rows, chart=chart if rows else None, currency=currency)


class IncomeForecastReport(Report):
    name = "income_forecast"
    label = _l("Income forecast")
    description = _l(
        "What the renewals falling due each month are expected to bring: each running "
        "service's price per period plus its add-ons, before usage and taxes; every renewal "
        "counts, and periods already invoiced ahead. Renewals due lists the services."
    )
    filters = ForecastFilters
    order = 43

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        currency = filters.get("currency") or default_currency()
        forecast = income_forecast(portal_clock.today(), filters.get("months") or 12)
        zero = billing.round_money(Decimal(0), currency)
        rows = [[month, amounts.get(currency, zero)] for month, amounts in forecast.items()]
        columns = [Column(_("Month"), ColumnKind.MONTH), Column(_("Expected"), ColumnKind.MONEY)]
        chart = Chart(
            "bar",
            [short_month_label(month) for month, _amount in rows],
            [(_("Expected"), [amount for _month, amount in rows])],
            title=_("Income forecast"),
            currency=currency,
        )
        total = [None, sum((amount for _month, amount in rows), zero)]
        return ReportResult(columns, rows, chart=chart, totals=total, currency=currency)
