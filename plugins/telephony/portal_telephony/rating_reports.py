"""Reports → telephony: traffic and revenue by destination and month, ARPU by plan, top
clients by minutes, unrated calls; each with a chart and CSV/XLSX export (the portal's Report
API, docs/plugins.md section 6). Aggregates run in the database, one GROUP BY each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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


class _CallReport(Report):
    """A telephony report: the period and currency filters only."""

    filters = CallFilters


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


def _grouped(
    keys: Sequence[Any],
    measures: Sequence[Any],
    where: Iterable[Any],
    *,
    joins: Sequence[tuple[Any, Any]] = (),
    order: Sequence[Any] | None = None,
    limit: int | None = None,
) -> list[Any]:
    """One GROUP BY: ``keys`` and their ``measures`` (aggregates) over the rows ``where``
    holds, ordered by the keys unless ``order`` says otherwise — every report's query."""
    query = select(*keys, *measures)
    for target, on in joins:
        query = query.join(target, on)
    query = query.where(*where).group_by(*keys).order_by(*(keys if order is None else order))
    if limit is not None:
        query = query.limit(limit)
    return list(session().execute(query).all())


def _result(
    columns: Sequence[Column | str],
    table: list[list[Any]],
    bars: tuple[str, list[str], str, list[Any]],
    *,
    money: bool = False,
    totals: list[Any] | None = None,
    currency: str | None = None,
) -> ReportResult:
    """The table with a bar chart of one series, ``(title, labels, series, values)``; the
    chart's tooltips show money in ``currency`` when ``money``."""
    title, labels, series, values = bars
    chart = Chart("bar", labels, [(series, values)], title, currency=currency if money else None)
    return ReportResult(columns, table, chart, totals=totals, currency=currency)


def _minutes(seconds: int | None) -> Decimal:
    return (Decimal(seconds or 0) / 60).quantize(Decimal("0.1"))


class TrafficByDestination(_CallReport):
    name, label, order = (
        "telephony_traffic",
        _l("Telephony: traffic and revenue by destination"),
        80,
    )

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        month = _month(Call.started_at)
        measures = (func.count(), func.sum(Call.billed_seconds), func.sum(Call.cost))
        rows = _grouped((month, Call.destination), measures, _calls_in(filters))
        table = [
            [date.fromisoformat(f"{m}-01"), d, n, _minutes(s), Decimal(c or 0)]
            for m, d, n, s, c in rows
        ]
        months = sorted({r[0] for r in table})
        revenue = [sum((r[4] for r in table if r[0] == m), Decimal(0)) for m in months]
        return _result(
            [
                Column(_("Month"), "month"),
                _("Destination"),
                Column(_("Calls"), "number"),
                Column(_("Minutes"), "number"),
                Column(_("Revenue"), "money"),
            ],
            table,
            (_("Call revenue by month"), [f"{m:%Y-%m}" for m in months], _("Revenue"), revenue),
            money=True,
            totals=[
                None,
                None,
                sum(r[2] for r in table),
                sum((r[3] for r in table), Decimal(0)),
                sum(revenue, Decimal(0)),
            ],
            currency=filters["currency"],
        )


class ArpuByPlan(_CallReport):
    name, label, order = (
        "telephony_arpu",
        _l("Telephony: call revenue per client by plan (ARPU)"),
        81,
    )

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        rows = _grouped(
            (Product.name,),
            (func.count(func.distinct(Call.client_id)), func.sum(Call.cost)),
            _calls_in(filters),
            joins=(
                (Service, Service.id == Call.service_id),
                (Product, Product.id == Service.product_id),
            ),
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
        return _result(
            [
                _("Plan"),
                Column(_("Clients"), "number"),
                Column(_("Revenue"), "money"),
                Column(_("ARPU"), "money"),
            ],
            table,
            (_("Call revenue per client"), [r[0] for r in table], _("ARPU"), [r[3] for r in table]),
            money=True,
            currency=filters["currency"],
        )


class TopClients(_CallReport):
    name, label, order = "telephony_top_clients", _l("Telephony: top clients by minutes"), 82

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        seconds = func.sum(Call.billed_seconds)
        rows = _grouped(
            (Client.id, Client.email),
            (seconds, func.sum(Call.cost)),
            _calls_in(filters),
            joins=((Client, Client.id == Call.client_id),),
            order=(seconds.desc(),),
            limit=20,
        )
        table = [[client_link(i, e), _minutes(s), Decimal(c or 0)] for i, e, s, c in rows]
        labels, minutes = [r[0].text for r in table], [r[1] for r in table]
        return _result(
            [
                Column(_("Client"), "link"),
                Column(_("Minutes"), "number"),
                Column(_("Revenue"), "money"),
            ],
            table,
            (_("Top clients by minutes"), labels, _("Minutes"), minutes),
            currency=filters["currency"],
        )


class UnratedCalls(_CallReport):
    name, label, order = "telephony_unrated", _l("Telephony: unrated calls"), 83

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        since, until = _window(filters)
        rows = _grouped(
            (Reject.reason, Reject.source),
            (func.count(),),
            (Reject.created_at >= since, Reject.created_at < until),
        )
        table = [[reason, source, n] for reason, source, n in rows]
        labels, counts = [f"{r[0]} ({r[1]})" for r in table], [r[2] for r in table]
        return _result(
            [_("Reason"), _("PBX"), Column(_("Calls"), "number")],
            table,
            (_("Unrated calls by reason"), labels, _("Calls"), counts),
            totals=[None, None, sum(counts)],
        )


REPORTS = (TrafficByDestination(), ArpuByPlan(), TopClients(), UnratedCalls())
