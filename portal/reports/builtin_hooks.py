"""The core reports, registered as a built-in plugin through ``register_reports`` — the same
way a plugin adds its reports, so both look and behave the same. ``trylast``: a plugin may
register a report under a core report's name to replace it.

Each report module adds its class to :data:`CORE_REPORTS` (one line per report).
"""

from __future__ import annotations

from portal.platform.hooks.markers import hookimpl
from portal.platform.reports import Report
from portal.reports.churn import ChurnReport
from portal.reports.cohorts import CohortReport
from portal.reports.debtors import DebtorsReport
from portal.reports.income import IncomeReport
from portal.reports.mrr import MrrReport
from portal.reports.renewals import RenewalRateReport, RenewalsReport
from portal.reports.sales import (
    IncomeForecastReport,
    NewSalesReport,
    PromotionsReport,
    TopClientsReport,
)
from portal.reports.vat import VatReport
from portal.support.reports import SupportSlaReport

CORE_REPORTS: tuple[type[Report], ...] = (
    IncomeReport,
    VatReport,
    MrrReport,
    ChurnReport,
    CohortReport,
    RenewalsReport,
    RenewalRateReport,
    DebtorsReport,
    NewSalesReport,
    PromotionsReport,
    TopClientsReport,
    IncomeForecastReport,
    SupportSlaReport,
)


@hookimpl(trylast=True)
def register_reports() -> list[Report]:
    return [report() for report in CORE_REPORTS]
