"""What the billing runs of the coming months would invoice, computed without writing anything.

The forecast walks every renewed service forward through its periods with the same pricing the
billing run uses (``billing_run.RenewalPricing``): the invoice date of a period is its due date
less the product's "invoice days before due" window (today for what is already within it).
Usage is unknown in advance, so usage-billed products show their fixed part only. Invoices are
counted as the run issues them: one per client and run, one per service for a client with
separate invoices (``billing_run.invoice_group``), in the client's currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import billing
from portal.accounts.models import Client
from portal.catalog import catalog
from portal.catalog.models import Product
from portal.core.extensions import db
from portal.invoicing.billing_run import (
    RENEWED,
    RenewalPricing,
    UpcomingPeriod,
    invoice_group,
    invoice_window,
    renewal_lines,
    upcoming_periods,
)
from portal.orders.models import Service, ServiceAddon, ServiceStatus


@dataclass(frozen=True)
class ForecastLine:
    invoice_date: date
    client_id: int
    client_name: str
    service_id: int
    description: str
    period: billing.Period
    currency: str
    net: Decimal
    tax: Decimal
    total: Decimal
    #: The invoice the run would put the line on: client, run date, ``invoice_group``.
    invoice: tuple[int, date, int | None]
    #: That invoice's currency (the client's, as the run writes it).
    invoice_currency: str

    @property
    def month(self) -> str:
        return f"{self.invoice_date:%Y-%m}"


@dataclass(frozen=True)
class MonthTotal:
    month: str
    currency: str
    invoices: int
    net: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class Forecast:
    start: date
    end: date
    lines: tuple[ForecastLine, ...]

    def months(self) -> list[MonthTotal]:
        """Totals per month and currency, with the invoices the runs would issue (one per
        client and day, or per service for a client with separate invoices)."""
        sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
        invoices: dict[tuple[str, str], set[tuple[int, date, int | None]]] = defaultdict(set)
        for line in self.lines:
            key = (line.month, line.currency)
            net, tax, total = sums[key]
            sums[key] = [net + line.net, tax + line.tax, total + line.total]
            invoices[(line.month, line.invoice_currency)].add(line.invoice)
        return [
            MonthTotal(month, currency, len(invoices[(month, currency)]), *sums[(month, currency)])
            for month, currency in sorted(sums.keys() | invoices.keys())
        ]


def forecast(as_of: date, months: int) -> Forecast:
    """Renewals the runs from ``as_of`` for ``months`` months would invoice (writes nothing)."""
    end = billing.add_months(as_of, months, as_of.day)
    pricing = RenewalPricing(as_of, usage=False)
    services = db.session.scalars(
        select(Service)
        .where(
            Service.status.in_(RENEWED),
            Service.terminate_at_period_end.is_(False),
            Service.next_due_date.is_not(None),
        )
        .options(
            selectinload(Service.client),
            selectinload(Service.options),
        )
        .order_by(Service.client_id, Service.id)
    ).all()
    pricing.load_clients(sorted({service.client_id for service in services}))  # one read, not N
    addons: dict[int, list[ServiceAddon]] = defaultdict(list)
    for held in db.session.scalars(
        select(ServiceAddon).where(ServiceAddon.status == ServiceStatus.ACTIVE)
    ):
        addons[held.service_id].append(held)
    lines: list[ForecastLine] = []
    for service in services:
        product = pricing.products[service.product_id]
        options = catalog.service_options(service)
        for invoice_date, upcoming in _periods(service, product, pricing, as_of, end):
            for line in renewal_lines(
                service, service.client, product, upcoming, options, addons[service.id], pricing
            ):
                lines.append(_line(service.client, service.id, invoice_date, upcoming.period, line))
    return Forecast(as_of, end, tuple(sorted(lines, key=lambda f: (f.invoice_date, f.client_id))))


def _periods(
    service: Service, product: Product, pricing: RenewalPricing, as_of: date, end: date
) -> Iterator[tuple[date, UpcomingPeriod]]:
    window = timedelta(days=invoice_window(product, pricing.default_days))
    for upcoming in upcoming_periods(service):
        invoice_date = max(as_of, upcoming.due - window)
        if invoice_date >= end:
            return
        yield invoice_date, upcoming


def _line(
    client: Client,
    service_id: int,
    invoice_date: date,
    period: billing.Period,
    line: billing.InvoiceLine,
) -> ForecastLine:
    return ForecastLine(
        invoice_date,
        client.id,
        client.display_name,
        service_id,
        line.description,
        period,
        line.currency,
        line.net,
        line.tax,
        line.total,
        (client.id, invoice_date, invoice_group(client, service_id)),
        client.currency,
    )
