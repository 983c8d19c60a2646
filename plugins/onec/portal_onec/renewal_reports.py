"""Reports → 1C renewal funnel (by manager and month) and 1C inactive clients, each with a chart
and CSV export (the portal's Report API)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import DateField, Form, SelectField, ValidationError
from wtforms.validators import Optional

from portal.billing import round_money
from portal.plugin_api import Chart, Report, ReportResult, session, today
from portal_onec.inactive import inactive_services
from portal_onec.outcomes import Outcome, label_of
from portal_onec.renewal_forms import manager_choices
from portal_onec.renewal_models import Renewal, RenewalState


def _year_ago() -> date:
    return today().replace(day=1) - timedelta(days=365)


def _in_a_quarter() -> date:
    return today() + timedelta(days=92)


class FunnelFilters(Form):
    since = DateField(_l("Periods ending from"), default=_year_ago, validators=[Optional()])
    until = DateField(_l("Periods ending by"), default=_in_a_quarter, validators=[Optional()])
    manager = SelectField(_l("Manager"), choices=[], validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.manager.choices = [("", _l("Any manager")), *manager_choices()]

    def validate_until(self, field: Any) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end must not be before the start."))


@dataclass
class FunnelRow:
    queued: int = 0
    with_outcome: int = 0
    invoice_issued: int = 0
    renewed: int = 0
    lost: int = 0
    revenue: Decimal = Decimal(0)


class RenewalFunnel(Report):
    """Per month of the period end and manager: how many services were queued, how many got
    an outcome, an invoice, were renewed or lost (not renewed or terminated), and the revenue
    the paid renewals kept."""

    name = "onec_renewal_funnel"
    label = _l("1C renewal funnel")
    description = _l(
        "Renewal queue items by the month their period ends and by manager. Lost: not renewed "
        "or terminated on refusal. Revenue kept: the paid renewal lines, VAT included."
    )
    filters = FunnelFilters
    order = 70

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        since = filters.get("since") or _year_ago()
        until = filters.get("until") or _in_a_quarter()
        query = select(Renewal).where(Renewal.period_end.between(since, until))
        manager = filters.get("manager")
        if manager:
            query = query.where(Renewal.manager_id == int(manager))
        groups: dict[tuple[str, str, str], FunnelRow] = {}
        for item in session().scalars(query.order_by(Renewal.period_end)):
            manager_name = item.manager.full_name if item.manager else "—"
            key = (f"{item.period_end:%Y-%m}", manager_name, item.currency)
            row = groups.setdefault(key, FunnelRow())
            row.queued += 1
            row.with_outcome += item.outcome is not None
            row.invoice_issued += item.outcome == Outcome.INVOICE_ISSUED.value
            state = item.renewal_state
            row.renewed += state is RenewalState.RENEWED
            row.lost += state in (RenewalState.NOT_RENEWED, RenewalState.TERMINATED)
            if item.revenue is not None:
                row.revenue += item.revenue
        rows = []
        for (month, manager_name, currency), row in sorted(groups.items()):
            rate = (Decimal(100 * row.renewed) / row.queued).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            rows.append(
                (
                    month,
                    manager_name,
                    currency,
                    row.queued,
                    row.with_outcome,
                    row.invoice_issued,
                    row.renewed,
                    row.lost,
                    rate,
                    round_money(row.revenue, currency),
                )
            )
        months = sorted({month for month, _m, _c in groups})

        def total(attribute: str) -> list[int]:
            return [
                sum(getattr(r, attribute) for (m, _n, _c), r in groups.items() if m == month)
                for month in months
            ]

        chart = Chart(
            "bar",
            months,
            [
                (_("In the queue"), total("queued")),
                (_("Renewed"), total("renewed")),
                (_("Lost"), total("lost")),
            ],
            _("Renewals by month of the period end"),
        )
        return ReportResult(
            [
                _("Month"),
                _("Manager"),
                _("Currency"),
                _("Queued for renewal"),
                _("With an outcome"),
                _("Invoice issued"),
                _("Renewed"),
                _("Lost"),
                _("Renewed, %"),
                _("Revenue kept"),
            ],
            rows,
            chart,
        )


class InactiveReport(Report):
    """The inactive services today, with the outcome recorded since their last use."""

    name = "onec_inactive"
    label = _l("1C inactive clients")
    description = _l(
        "Running 1C services unused for the number of days set on their product, or never used."
    )
    order = 71

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        found = inactive_services()
        rows = [
            (
                item.service.client.display_name,
                item.service.product.name,
                item.last_used_at.date() if item.last_used_at else _("Never"),
                item.idle_days,
                label_of(item.outcome.outcome) if item.outcome else _("No outcome yet"),
                item.outcome.comment if item.outcome else "",
                item.service.client.manager.full_name if item.service.client.manager else "",
            )
            for item in found
        ]
        counts: dict[str, int] = {}
        for item in found:
            key = str(label_of(item.outcome.outcome)) if item.outcome else _("No outcome yet")
            counts[key] = counts.get(key, 0) + 1
        labels = sorted(counts)
        chart = Chart(
            "bar", labels, [(_("Services"), [counts[k] for k in labels])], _("Inactive by outcome")
        )
        return ReportResult(
            [
                _("Client"),
                _("Service"),
                _("Last use"),
                _("Days without use"),
                _("Outcome"),
                _("Comment"),
                _("Manager"),
            ],
            rows,
            chart,
        )
