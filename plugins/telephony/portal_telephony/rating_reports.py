"""Reports → telephony: traffic and revenue by destination and month, ARPU by plan, top
clients by minutes, unrated calls; each with a chart and CSV/XLSX export (the portal's Report
API, docs/plugins.md section 6). Aggregates run in the database, one GROUP BY each."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.plugin_api import (
    Chart,
    Client,
    Column,
    Product,
    Report,
    ReportFilters,
    ReportResult,
    Service,
    client_link,
    session,
)
from portal_telephony.rating_models import Call, Reject


class CallFilters(ReportFilters):
    product = product_group = manager = None


def _window(filters: Mapping[str, Any]) -> tuple[datetime, datetime]:
    since: date = filters["since"]
    until: date = filters["until"]
    return (
        datetime.combine(since, time(0), tzinfo=UTC),
        datetime.combine(until, time(0), tzinfo=UTC) + timedelta(days=1),
    )


def _calls_in(filters: Mapping[str, Any]) -> tuple[Any, ...]:
    """The calls of the report's period, in its currency."""
    since, until = _window(filters)
    return (Call.started_at >= since, Call.started_at < until, Call.currency == filters["currency"])


def _month(column: Any) -> Any:
    if session().get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _minutes(seconds: int | None) -> Decimal:
    return (Decimal(seconds or 0) / 60).quantize(Decimal("0.1"))


class TrafficByDestination(Report):
    name, label = "telephony_traffic", _l("Telephony: traffic and revenue by destination")
    filters = CallFilters
    order = 80

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        month = _month(Call.started_at)
        rows = (
            session()
            .execute(
                select(
                    month,
                    Call.destination,
                    func.count(),
                    func.sum(Call.billed_seconds),
                    func.sum(Call.cost),
                )
                .where(*_calls_in(filters))
                .group_by(month, Call.destination)
                .order_by(month, Call.destination)
            )
            .all()
        )
        table = [
            [date.fromisoformat(f"{m}-01"), d, n, _minutes(s), Decimal(c or 0)]
            for m, d, n, s, c in rows
        ]
        months = sorted({r[0] for r in table})
        revenue = [sum((r[4] for r in table if r[0] == m), Decimal(0)) for m in months]
        chart = Chart(
            "bar",
            [f"{m:%Y-%m}" for m in months],
            [(_("Revenue"), revenue)],
            _("Call revenue by month"),
            currency=filters["currency"],
        )
        return ReportResult(
            [
                Column(_("Month"), "month"),
                _("Destination"),
                Column(_("Calls"), "number"),
                Column(_("Minutes"), "number"),
                Column(_("Revenue"), "money"),
            ],
            table,
            chart,
            totals=[
                None,
                None,
                sum(r[2] for r in table),
                sum((r[3] for r in table), Decimal(0)),
                sum(revenue, Decimal(0)),
            ],
            currency=filters["currency"],
        )


class ArpuByPlan(Report):
    name, label = "telephony_arpu", _l("Telephony: call revenue per client by plan (ARPU)")
    filters = CallFilters
    order = 81

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        rows = (
            session()
            .execute(
                select(Product.name, func.count(func.distinct(Call.client_id)), func.sum(Call.cost))
                .join(Service, Service.id == Call.service_id)
                .join(Product, Product.id == Service.product_id)
                .where(*_calls_in(filters))
                .group_by(Product.name)
                .order_by(Product.name)
            )
            .all()
        )
        table = [
            [
                name,
                clients,
                Decimal(total or 0),
                (Decimal(total or 0) / clients).quantize(Decimal("0.01")),
            ]
            for name, clients, total in rows
        ]
        chart = Chart(
            "bar",
            [r[0] for r in table],
            [(_("ARPU"), [r[3] for r in table])],
            _("Call revenue per client"),
            currency=filters["currency"],
        )
        return ReportResult(
            [
                _("Plan"),
                Column(_("Clients"), "number"),
                Column(_("Revenue"), "money"),
                Column(_("ARPU"), "money"),
            ],
            table,
            chart,
            currency=filters["currency"],
        )


class TopClients(Report):
    name, label = "telephony_top_clients", _l("Telephony: top clients by minutes")
    filters = CallFilters
    order = 82

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        seconds = func.sum(Call.billed_seconds)
        rows = (
            session()
            .execute(
                select(Client.id, Client.email, seconds, func.sum(Call.cost))
                .join(Client, Client.id == Call.client_id)
                .where(*_calls_in(filters))
                .group_by(Client.id, Client.email)
                .order_by(seconds.desc())
                .limit(20)
            )
            .all()
        )
        table = [[client_link(i, e), _minutes(s), Decimal(c or 0)] for i, e, s, c in rows]
        chart = Chart(
            "bar",
            [r[0].text for r in table],
            [(_("Minutes"), [r[1] for r in table])],
            _("Top clients by minutes"),
        )
        return ReportResult(
            [
                Column(_("Client"), "link"),
                Column(_("Minutes"), "number"),
                Column(_("Revenue"), "money"),
            ],
            table,
            chart,
            currency=filters["currency"],
        )


class UnratedCalls(Report):
    name, label = "telephony_unrated", _l("Telephony: unrated calls")
    filters = CallFilters
    order = 83

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        since, until = _window(filters)
        rows = (
            session()
            .execute(
                select(Reject.reason, Reject.source, func.count())
                .where(Reject.created_at >= since, Reject.created_at < until)
                .group_by(Reject.reason, Reject.source)
                .order_by(Reject.reason, Reject.source)
            )
            .all()
        )
        table = [[reason, source, n] for reason, source, n in rows]
        chart = Chart(
            "bar",
            [f"{r[0]} ({r[1]})" for r in table],
            [(_("Calls"), [r[2] for r in table])],
            _("Unrated calls by reason"),
        )
        return ReportResult(
            [_("Reason"), _("PBX"), Column(_("Calls"), "number")],
            table,
            chart,
            totals=[None, None, sum(r[2] for r in table)],
        )


REPORTS = (TrafficByDestination(), ArpuByPlan(), TopClients(), UnratedCalls())
