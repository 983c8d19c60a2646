"""Cohort retention: clients grouped by the month of their first recurring service, and the
share of each cohort still paying (MRR above 0) at the end of each following month.

A client's first month is that of the earliest registration date among its recurring services
that ever ran; a client who leaves and comes back stays in the first cohort (and counts as
paying again once back).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, extract, func, select

from portal.accounts.models import Client
from portal.core.clock import today as business_today
from portal.core.extensions import db
from portal.orders.models import Service, ServiceStatus
from portal.platform.reports import Column, Report, ReportResult
from portal.reports.mrr import (
    EVERYTHING,
    RECURRING_CYCLES,
    MonthlyFilters,
    Scope,
    Timeline,
    levels_by_month,
    months_of,
    percent,
    scope_of,
)


@dataclass(frozen=True)
class Cohort:
    """Clients whose first recurring service started in ``month``; ``paying[n]`` of them still
    had MRR above 0 at the end of the n-th month after it (n = 0 is the month itself)."""

    month: date
    clients: int
    paying: tuple[int, ...]

    def share(self, index: int) -> Decimal | None:
        return percent(self.paying[index], self.clients) if index < len(self.paying) else None


def _first_months(scope: Scope) -> Any:
    """Each client's first recurring service: (client, year, month) as a subquery."""
    first = (
        select(
            Service.client_id.label("client_id"),
            func.min(Service.registration_date).label("first_day"),
        )
        .where(Service.status != ServiceStatus.PENDING, Service.cycle.in_(RECURRING_CYCLES))
        .group_by(Service.client_id)
    )
    if scope.currency:
        first = first.where(Service.currency == scope.currency)
    if scope.manager_id is not None:
        first = first.join(Client, Client.id == Service.client_id).where(
            Client.manager_id == scope.manager_id
        )
    first = first.subquery()
    return select(
        first.c.client_id,
        extract("year", first.c.first_day).label("year"),
        extract("month", first.c.first_day).label("month"),
    ).subquery()


def cohorts(first_month: date, months: int, scope: Scope = EVERYTHING) -> list[Cohort]:
    """The retention table of the cohorts of ``months`` months from ``first_month``: one query
    for the cohorts' sizes, one for who starts and stops paying in each month."""
    timeline = Timeline(first_month, months, business_today())
    cohort = _first_months(scope)
    sizes = {
        (int(year), int(month)): int(count)
        for year, month, count in db.session.execute(
            select(cohort.c.year, cohort.c.month, func.count()).group_by(
                cohort.c.year, cohort.c.month
            )
        )
    }
    levels = levels_by_month(timeline, scope, "client_id")
    after = levels.c.level
    before = after - levels.c.delta
    opening = levels.c.bucket == 0
    # per cohort and bucket: clients paying from then on (+1) and clients stopping (-1)
    change = case(
        (and_(opening, after > 0), 1),
        (and_(~opening, before == 0, after > 0), 1),
        (and_(~opening, before > 0, after == 0), -1),
        else_=0,
    )
    steps: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for year, number, bucket, total in db.session.execute(
        select(cohort.c.year, cohort.c.month, levels.c.bucket, func.sum(change))
        .join(levels, levels.c.key == cohort.c.client_id)
        .group_by(cohort.c.year, cohort.c.month, levels.c.bucket)
    ):
        steps[(int(year), int(number))][int(bucket)] = int(total or 0)
    table = []
    for index, month in enumerate(timeline.months, start=1):
        key = (month.year, month.month)
        paying = sum(n for bucket, n in steps[key].items() if bucket < index)
        counts = []
        for later in range(index, len(timeline.months) + 1):
            paying += steps[key].get(later, 0)
            counts.append(paying)
        table.append(Cohort(month, sizes.get(key, 0), tuple(counts)))
    return table


class CohortFilters(MonthlyFilters):
    product = None


class CohortReport(Report):
    name = "cohorts"
    label = _l("Cohort retention")
    description = _l(
        "Clients by the month of their first recurring service, and the share of them still "
        "paying after 0, 1, 2 ... months."
    )
    filters = CohortFilters
    order = 32

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        today = business_today()
        scope = scope_of(filters)
        first, count = months_of(filters, today)
        table = cohorts(first, count, scope)
        columns = [Column(_("First month"), "month"), Column(_("Clients"), "number")]
        columns += [Column(_("Month %(number)s", number=n), "percent") for n in range(count)]
        rows = [
            [cohort.month, cohort.clients, *(cohort.share(n) for n in range(count))]
            for cohort in table
        ]
        totals = [None, sum(c.clients for c in table), *([None] * count)]
        return ReportResult(columns, rows, None, totals, scope.currency)
