"""Churn per month: customer (logo) churn, subscription churn and gross MRR churn.

* **Customer churn rate**: clients whose MRR fell to 0 in the month / clients paying at its
  start (a client who changes plan, or drops one of several services, has not churned).
* **Subscription churn rate**: services paying at the start of the month that pay nothing at
  its end (terminated, cancelled or made free) / services paying at its start. A change of plan
  keeps the service: it is never churn.
* **MRR churn rate** (gross revenue churn): churned + contracted MRR / MRR at the start.

The figures come from the MRR of each service at the months' ends (``portal.reports.mrr``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.core.clock import today as business_today
from portal.platform.reports import Chart, Column, Report, ReportResult, short_month_label
from portal.reports.mrr import (
    EVERYTHING,
    Flow,
    MonthlyFilters,
    Scope,
    Timeline,
    by_month,
    flows_by_month,
    months_of,
    movements,
    percent,
    scope_of,
)


@dataclass(frozen=True)
class SubscriptionChurn:
    month: date
    currency: str
    #: Services with MRR above 0 at the start of the month.
    subscriptions: int
    #: Of those, the ones with no MRR at its end (terminated, cancelled or made free).
    churned: int

    @property
    def rate(self) -> Decimal | None:
        return percent(self.churned, self.subscriptions)


def subscription_churn(
    first_month: date, months: int, scope: Scope = EVERYTHING
) -> list[SubscriptionChurn]:
    """Per month and currency, paying services at the start and how many of them stopped
    paying by the end (a plan change keeps the service: it is not churn). One query."""
    timeline = Timeline(first_month, months, business_today())
    flows = flows_by_month(timeline, scope, "service_id", returning=False)
    result = []
    for currency in sorted({currency for _bucket, currency in flows}):
        paying = flows.get((0, currency), Flow()).new_keys
        for index, month in enumerate(timeline.months, start=1):
            flow = flows.get((index, currency), Flow())
            result.append(SubscriptionChurn(month, currency, paying, flow.lost_keys))
            paying += flow.new_keys - flow.lost_keys
    result.sort(key=lambda item: (item.month, item.currency))
    return result


class ChurnReport(Report):
    name = "churn"
    label = _l("Churn")
    description = _l(
        "Per month: clients whose MRR fell to 0 (customer churn), paying services that stopped "
        "paying (subscription churn) and the MRR lost to churn and contraction."
    )
    filters = MonthlyFilters
    order = 31

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        today = business_today()
        scope = scope_of(filters)
        first, count = months_of(filters, today)
        clients = dict(by_month(movements(first, count, scope, reactivations=False), first, count))
        services = dict(by_month(subscription_churn(first, count, scope), first, count))
        rows = []
        for month in clients:
            logo, subscription = clients[month], services[month]
            rows.append(
                [
                    month,
                    logo.clients_start if logo else 0,
                    logo.churned_clients if logo else 0,
                    logo.customer_churn_rate if logo else None,
                    subscription.subscriptions if subscription else 0,
                    subscription.churned if subscription else 0,
                    subscription.rate if subscription else None,
                    logo.mrr_churn_rate if logo else None,
                ]
            )
        columns = [
            Column(_("Month"), "month"),
            Column(_("Paying clients at the start"), "number"),
            Column(_("Clients lost"), "number"),
            Column(_("Customer churn rate"), "percent"),
            Column(_("Paying services at the start"), "number"),
            Column(_("Services lost"), "number"),
            Column(_("Subscription churn rate"), "percent"),
            Column(_("MRR churn rate"), "percent"),
        ]
        lost_clients = sum(r[2] for r in rows)
        lost_services = sum(r[5] for r in rows)
        totals = [None, None, lost_clients, None, None, lost_services, None, None]
        chart = None
        if rows:
            chart = Chart(
                "line",
                [short_month_label(r[0]) for r in rows],
                [
                    (_("Customer churn rate"), [r[3] or 0 for r in rows]),
                    (_("Subscription churn rate"), [r[6] or 0 for r in rows]),
                    (_("MRR churn rate"), [r[7] or 0 for r in rows]),
                ],
                title=_("Churn rates"),
            )
        return ReportResult(columns, rows, chart, totals, scope.currency)
