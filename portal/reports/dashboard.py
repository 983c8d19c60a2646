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
from importlib import import_module
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.catalog.currencies import default_currency
from portal.core import clock as portal_clock
from portal.platform.report_filters import add_months
from portal.platform.reports import Chart, short_month_label
from portal.reports import income

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
    available: bool = True


@dataclass
class Dashboard:
    figures: list[Figure]
    charts: list[Chart]
    currency: str


def _provider(module: str, name: str) -> Any | None:
    """A figure's function from its report module, or None where that report is not part of
    this build (the dashboard shows what exists and says what does not)."""
    try:
        found = import_module(module)
    except ModuleNotFoundError as missing:
        if missing.name != module:
            raise
        return None
    return getattr(found, name, None)


def figures(now: datetime) -> Dashboard:
    today = portal_clock.today()
    currency = default_currency()
    month = today.replace(day=1)
    last_month_end = month - timedelta(days=1)
    shown = [
        Figure(
            "income",
            _l("Income this month"),
            amounts=income.income_total(month, today),
            report="income",
        )
    ]
    mrr_by_currency = _provider("portal.reports.mrr", "mrr_by_currency")
    mrr = Figure("mrr", _l("MRR"), report="mrr", available=mrr_by_currency is not None)
    if mrr_by_currency is not None:
        mrr.amounts = mrr_by_currency(today)
        before = mrr_by_currency(last_month_end)
        mrr.change = {
            code: mrr.amounts.get(code, Decimal(0)) - before.get(code, Decimal(0))
            for code in sorted({*mrr.amounts, *before})
        }
    shown.append(mrr)
    debtors_total = _provider("portal.reports.debtors", "debtors_total")
    debtors = Figure(
        "debtors", _l("Debtors owe"), report="debtors", available=debtors_total is not None
    )
    if debtors_total is not None:
        debtors.amounts = debtors_total(today)
    shown.append(debtors)
    past_sla = _provider("portal.support.reports", "tickets_past_sla")
    tickets = Figure(
        "tickets_past_sla",
        _l("Open tickets past SLA"),
        available=past_sla is not None,
    )
    if past_sla is not None:
        tickets.count = past_sla(now)
    shown.append(tickets)

    first = add_months(month, -(CHART_MONTHS - 1))
    charts = []
    series = income.income_by_month(first, CHART_MONTHS, currency)
    charts.append(
        Chart(
            "bar",
            [short_month_label(m) for m, _v in series],
            [(f"{_l('Income')}, {currency}", [v for _m, v in series])],
            title=str(_l("Income per month, %(currency)s", currency=currency)),
        )
    )
    mrr_series = _provider("portal.reports.mrr", "mrr_series")
    if mrr_series is not None:
        points = mrr_series(first, CHART_MONTHS, currency)
        charts.append(
            Chart(
                "line",
                [short_month_label(m) for m, _v in points],
                [(f"MRR, {currency}", [v for _m, v in points])],
                title=str(_l("MRR per month, %(currency)s", currency=currency)),
            )
        )
    for figure in shown:
        if figure.available and figure.count is None and not figure.amounts:
            figure.amounts = {currency: Decimal(0)}
    return Dashboard(shown, charts, currency)
