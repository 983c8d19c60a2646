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
from sqlalchemy import and_, case, func, select

from portal.core.clock import today as business_today
from portal.core.extensions import db
from portal.platform.reports import Column, Report, ReportResult
from portal.reports.mrr import (
    EVERYTHING,
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


def cohorts(first_month: date, months: int, scope: Scope = EVERYTHING) -> list[Cohort]:
    """The retention table of the cohorts of ``months`` months from ``first_month``, in one
    query: a client's cohort is the month of its first purchase (``first_buy`` of the MRR
    timeline), and per cohort and month the clients who start (+1) and stop (-1) paying."""
    timeline = Timeline(first_month, months, business_today())
    levels = levels_by_month(timeline, scope, "client_id")
    after = levels.c.level
    before = after - levels.c.delta
    cohort, bucket = levels.c.first_buy, levels.c.bucket
    change = case(
        (and_(before == 0, after > 0), 1),
        (and_(before > 0, after == 0), -1),
        else_=0,
    )
    joined = func.sum(case((bucket == cohort, 1), else_=0))
    sizes: dict[int, int] = defaultdict(int)
    steps: dict[int, dict[int, int]] = defaultdict(dict)
    for index, month_index, total, starting in db.session.execute(
        select(cohort, bucket, func.sum(change), joined).where(cohort >= 1).group_by(cohort, bucket)
    ):
        steps[int(index)][int(month_index)] = int(total or 0)
        sizes[int(index)] += int(starting or 0)
    table = []
    for index, month in enumerate(timeline.months, start=1):
        paying, counts = 0, []
        for later in range(index, len(timeline.months) + 1):
            paying += steps[index].get(later, 0)
            counts.append(paying)
        table.append(Cohort(month, sizes[index], tuple(counts)))
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
