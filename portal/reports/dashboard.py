"""The owners' dashboard (Reports → the index): the four numbers owners look at — income this
month, MRR and its change against the end of last month, what debtors owe, open tickets past
their SLA — and two small charts, income and MRR per month over twelve months.

Each number comes from the report that defines it (``portal.reports.income``, ``.mrr``,
``.debtors``, ``portal.support.reports``), so the dashboard and the reports always agree.

Computing them reads every service, payment and invoice, so they are kept in ``report_figures``
(migration 0038): a visit reads one row and computes again only when the row is stale (an ORM
write to the rows the figures come from marked it, see :func:`_mark_stale`), from another day
or currency, or older than :data:`MAX_AGE` (the tickets past their SLA grow with time alone,
and a raw SQL write marks nothing). docs/performance.md, "Report figures".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, event, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session

from portal.catalog.currencies import default_currency
from portal.core import clock as portal_clock
from portal.core.extensions import db
from portal.platform.models import ReportFigures
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
    #: When the figures were computed (None: just now, and not kept).
    computed_at: datetime | None = None


#: The kept figures' row.
KEY = "dashboard"
#: Figures older than this are computed again even if nothing marked them stale.
MAX_AGE = timedelta(minutes=5)
#: The tables the figures are computed from: an ORM write to any marks them stale.
SOURCES = frozenset(
    {
        "invoice",
        "payment",
        "payment_allocation",
        "credit_entry",
        "service",
        "service_change",
        "service_addon",
        "ticket",
    }
)


def figures(now: datetime) -> Dashboard:
    """The dashboard as kept, or computed (and kept) when the kept figures are not current.
    Commits: the claim of the row before computing and the figures after."""
    today = portal_clock.today()
    currency = default_currency()
    row = db.session.get(ReportFigures, KEY, populate_existing=True)
    if row is not None and not row.stale and row.payload and row.day == today:
        raw = json.loads(row.payload)
        if (
            raw.get("currency") == currency
            and row.computed_at is not None
            and now - row.computed_at < MAX_AGE
        ):
            return _built(raw, row.computed_at)
    version = _claim()
    raw = _computed(now, today, currency)
    stored = db.session.execute(
        update(ReportFigures)
        .where(ReportFigures.key == KEY, ReportFigures.version == version)
        .values(day=today, computed_at=now, payload=json.dumps(raw))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return _built(raw, now if stored.rowcount else None)


def _claim() -> int:
    """Mark the row current (creating it) and commit, before computing: a write that commits
    while the figures are computed marks it stale again and moves ``version`` on, so the
    figures computed from before it are not stored."""
    db.session.execute(
        update(ReportFigures)
        .where(ReportFigures.key == KEY)
        .values(stale=False, version=ReportFigures.version + 1)
        .execution_options(synchronize_session=False)
    )
    claimed = db.session.scalar(select(ReportFigures.version).where(ReportFigures.key == KEY))
    if claimed is None:
        try:
            with db.session.begin_nested():
                db.session.add(ReportFigures(key=KEY, stale=False, version=1, payload=""))
            claimed = 1
        except IntegrityError:  # another request created it first
            return _claim()
    db.session.commit()
    return int(claimed)


def _computed(now: datetime, today: date, currency: str) -> dict[str, Any]:
    """The figures as plain data (amounts as decimal strings): what the row keeps."""
    month = today.replace(day=1)
    first = add_months(month, -(CHART_MONTHS - 1))
    return {
        "currency": currency,
        "income": _amounts(income.income_total(month, today)),
        "mrr": _amounts(mrr.mrr_by_currency(today)),
        "mrr_before": _amounts(mrr.mrr_by_currency(month - timedelta(days=1))),
        "debtors": _amounts(debtors.debtors_total(today)),
        "tickets_past_sla": support_reports.tickets_past_sla(now),
        "income_series": _series(income.income_by_month(first, CHART_MONTHS, currency)),
        "mrr_series": _series(mrr.mrr_series(first, CHART_MONTHS, currency)),
    }


def _amounts(amounts: dict[str, Decimal]) -> dict[str, str]:
    return {code: str(amount) for code, amount in amounts.items()}


def _series(points: list[tuple[date, Decimal]]) -> list[tuple[str, str]]:
    return [(month.isoformat(), str(value)) for month, value in points]


def _decimals(amounts: dict[str, str]) -> dict[str, Decimal]:
    return {code: Decimal(amount) for code, amount in amounts.items()}


def _built(raw: dict[str, Any], computed_at: datetime | None) -> Dashboard:
    """The dashboard of kept figures, labelled in the request's language."""
    currency = raw["currency"]
    mrr_now, mrr_before = _decimals(raw["mrr"]), _decimals(raw["mrr_before"])
    shown = [
        Figure(
            "income", _l("Income this month"), amounts=_decimals(raw["income"]), report="income"
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
        Figure("debtors", _l("Debtors owe"), amounts=_decimals(raw["debtors"]), report="debtors"),
        Figure(
            "tickets_past_sla",
            _l("Open tickets past SLA"),
            count=raw["tickets_past_sla"],
            report="support",
        ),
    ]
    charts = []
    series = [(date.fromisoformat(m), Decimal(v)) for m, v in raw["income_series"]]
    charts.append(
        Chart(
            "bar",
            [short_month_label(m) for m, _v in series],
            [(f"{_l('Income')}, {currency}", [v for _m, v in series])],
            title=str(_l("Income per month, %(currency)s", currency=currency)),
            currency=currency,
        )
    )
    points = [(date.fromisoformat(m), Decimal(v)) for m, v in raw["mrr_series"]]
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
    return Dashboard(shown, charts, currency, computed_at)


def _touches_sources(tables: set[str]) -> bool:
    return not SOURCES.isdisjoint(tables)


#: ``session.info`` key: the transaction wrote to a source table; the figures are marked stale
#: as it commits.
_WROTE = "report_figures_sources_written"


def _mark_stale(connection: Connection) -> None:
    """The last statement of the writer's transaction, just before its COMMIT: marking at its
    first write would lock the figures' row for the whole transaction, queue every other writer
    behind it, and deadlock two writers that also lock clients or invoices in the other order.
    Holding it last, a writer asks for no other lock while it holds this one, so no cycle."""
    connection.execute(
        update(ReportFigures.__table__)  # type: ignore[arg-type]
        .where(ReportFigures.__table__.c.stale.is_(False))
        .values(stale=True, version=ReportFigures.__table__.c.version + 1)
    )


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    changed = {
        table.name
        for obj in (*session.new, *session.dirty, *session.deleted)
        for table in inspect(obj).mapper.tables
    }
    if _touches_sources(changed):
        session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _bulk_written(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and _touches_sources(
        {table.name for mapper in state.all_mappers for table in mapper.tables}
    ):
        state.session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _committing(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the outer commit marks
        return
    session.flush()  # the commit's own flush comes after this event
    if session.info.pop(_WROTE, False):
        _mark_stale(session.connection())


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_WROTE, None)
