"""Reports → Additional charges and refusals: per month and function, what was charged (refused
charges left out: a refusal takes a charge out of the statistics), paid, still to pay and
blocked, and how many charges were refused; or the list of refusals with the clients'
comments. Amounts are the invoices' totals, in one currency per row."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from wtforms import DateField, Form, SelectField, ValidationError
from wtforms.validators import Optional

from portal.billing import round_money
from portal.plugin_api import Chart, Client, Report, ReportResult, session, today
from portal_onec.charge_model import AdditionalCharge, ChargeState, Function

SUMMARY, REFUSALS = "summary", "refusals"
FUNCTION_NAMES = {
    Function.SESSIONS.value: _l("Concurrent sessions"),
    Function.BASES.value: _l("Information bases"),
}


def _year_ago() -> date:
    return (today() - timedelta(days=365)).replace(day=1)


class ChargeFilters(Form):
    since = DateField(_l("Month from"), default=_year_ago, validators=[Optional()])
    until = DateField(_l("Month to"), default=today, validators=[Optional()])
    view = SelectField(
        _l("Show"),
        choices=[(SUMMARY, _l("Charges by month")), (REFUSALS, _l("Refusals with comments"))],
        default=SUMMARY,
    )

    def validate_until(self, field: Any) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end must not be before the start."))


def month(value: date) -> str:
    return f"{value.month:02d}.{value.year}"


class ChargesReport(Report):
    name = "onec_charges"
    label = _l("Additional charges and refusals")
    description = _l(
        "1C: sessions and bases above the tariffs, charged monthly. Refused charges are not "
        "counted in the amounts; they are listed under Refusals."
    )
    filters = ChargeFilters
    order = 72

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        since = (filters.get("since") or _year_ago()).replace(day=1)
        until = filters.get("until") or today()
        within = AdditionalCharge.period_start.between(since, until)
        if filters.get("view") == REFUSALS:
            return self.refusals(within)
        return self.summary(within)

    def summary(self, within: Any) -> ReportResult:
        state = AdditionalCharge.state

        def amount_when(*states: ChargeState) -> Any:
            chosen = [s.value for s in states]
            return func.sum(case((state.in_(chosen), AdditionalCharge.amount), else_=0))

        def count_when(*states: ChargeState) -> Any:
            chosen = [s.value for s in states]
            return func.sum(case((state.in_(chosen), 1), else_=0))

        counted = (ChargeState.OPEN, ChargeState.PAID, ChargeState.BLOCKED)
        query = (
            select(
                AdditionalCharge.period_start,
                AdditionalCharge.function,
                AdditionalCharge.currency,
                count_when(*counted),
                func.sum(
                    case((state != ChargeState.REFUSED.value, AdditionalCharge.quantity), else_=0)
                ),
                amount_when(*counted),
                amount_when(ChargeState.PAID),
                amount_when(ChargeState.OPEN),
                amount_when(ChargeState.BLOCKED),
                count_when(ChargeState.REFUSED),
            )
            .where(within)
            .group_by(
                AdditionalCharge.period_start, AdditionalCharge.function, AdditionalCharge.currency
            )
            .order_by(AdditionalCharge.period_start, AdditionalCharge.function)
        )
        rows = []
        for start, function, currency, *numbers in session().execute(query):
            charged, units, amount, paid, open_, blocked, refused = numbers
            rows.append(
                [
                    month(start),
                    str(FUNCTION_NAMES.get(function, function)),
                    currency,
                    int(charged or 0),
                    int(units or 0),
                    round_money(Decimal(amount or 0), currency),
                    round_money(Decimal(paid or 0), currency),
                    round_money(Decimal(open_ or 0), currency),
                    round_money(Decimal(blocked or 0), currency),
                    int(refused or 0),
                ]
            )
        months = sorted({r[0] for r in rows}, key=lambda m: (m[3:], m[:2]))
        chart = None
        if months:

            def per_month(column: int) -> list[Decimal]:
                return [sum((r[column] for r in rows if r[0] == m), Decimal(0)) for m in months]

            chart = Chart(
                "bar",
                months,
                [(_("Charged"), per_month(5)), (_("Paid"), per_month(6))],
                title=_("Additional charges by month (refused not counted)"),
            )
        columns = [
            _("Month"),
            _("Function"),
            _("Currency"),
            _("Charges"),
            _("Units above the tariff"),
            _("Charged"),
            _("Paid"),
            _("To pay"),
            _("Blocked: unpaid"),
            _("Refused"),
        ]
        return ReportResult(columns, rows, chart)

    def refusals(self, within: Any) -> ReportResult:
        query = (
            select(AdditionalCharge, Client)
            .join(Client, Client.id == AdditionalCharge.client_id)
            .where(within, AdditionalCharge.state == ChargeState.REFUSED.value)
            .order_by(AdditionalCharge.refused_at, AdditionalCharge.id)
        )
        rows = [
            [
                month(row.period_start),
                client.display_name,
                f"#{row.service_id}",
                str(FUNCTION_NAMES.get(row.function, row.function)),
                row.quantity,
                round_money(row.amount, row.currency),
                row.refused_at.date() if row.refused_at else "",
                row.refusal_comment,
            ]
            for row, client in session().execute(query)
        ]
        columns = [
            _("Month"),
            _("Client"),
            _("Service"),
            _("Function"),
            _("Units above the tariff"),
            _("Amount refused"),
            _("Refused on"),
            _("Comment"),
        ]
        return ReportResult(columns, rows)
