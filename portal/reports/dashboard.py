"""The owners' dashboard (Reports → the index): the four numbers owners look at — income this
month, MRR and its change against the end of last month, what debtors owe, open tickets past
their SLA — and two small charts, income and MRR per month over twelve months.

Each number comes from the report that defines it (``portal.reports.income``, ``.mrr``,
``.debtors``, ``portal.support.reports``), so the dashboard and the reports always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.catalog.currencies import default_currency
from portal.core import clock as portal_clock
from portal.platform.report_filters import add_months
from portal.platform.reports import Chart, short_month_label
from portal.reports import debtors, income, mrr
from portal.support import reports as support_reports

#: Months in the dashboard's charts.
CHART_MONTHS = 12


@dataclass
class Figure:
    """One of the four numbers: per-currency amounts or a count, the change where it has one,
    and the report that explains it."""

    key: str
    label: Any
    amounts: dict[str, Decimal] = field(default_factory=dict)
    count: int | None = None
    change: dict[str, Decimal] = field(default_factory=dict)
    report: str | None = None


@dataclass
class Dashboard:
    figures: list[Figure]
    charts: list[Chart]
    currency: str


def figures(now: datetime) -> Dashboard:
    today = portal_clock.today()
    currency = default_currency()
    month = today.replace(day=1)
    mrr_now = mrr.mrr_by_currency(today)
    mrr_before = mrr.mrr_by_currency(month - timedelta(days=1))
    shown = [
        Figure(
            "income",
            _l("Income this month"),
            amounts=income.income_total(month, today),
            report="income",
        ),
        Figure(
            "mrr",
            _l("MRR"),
            amounts=mrr_now,
            change={
                code: mrr_now.get(code, Decimal(0)) - mrr_before.get(code, Decimal(0))
                for code in sorted({*mrr_now, *mrr_before})
            },
            report="mrr",
        ),
        Figure(
            "debtors", _l("Debtors owe"), amounts=debtors.debtors_total(today), report="debtors"
        ),
        Figure(
            "tickets_past_sla",
            _l("Open tickets past SLA"),
            count=support_reports.tickets_past_sla(now),
            report="support",
        ),
    ]

    first = add_months(month, -(CHART_MONTHS - 1))
    charts = []
    series = income.income_by_month(first, CHART_MONTHS, currency)
    charts.append(
        Chart(
            "bar",
            [short_month_label(m) for m, _v in series],
            [(f"{_l('Income')}, {currency}", [v for _m, v in series])],
            title=str(_l("Income per month, %(currency)s", currency=currency)),
            currency=currency,
        )
    )
    points = mrr.mrr_series(first, CHART_MONTHS, currency)
    if points:
        charts.append(
            Chart(
                "line",
                [short_month_label(m) for m, _v in points],
                [(f"MRR, {currency}", [v for _m, v in points])],
                title=str(_l("MRR per month, %(currency)s", currency=currency)),
                currency=currency,
            )
        )
    for figure in shown:
        if figure.count is None and not figure.amounts:
            figure.amounts = {currency: Decimal(0)}
    return Dashboard(shown, charts, currency)
