"""Rated calls as clients and staff see them: the call list with its filters, the call detail
report ("детализация звонков") as CSV, the postpaid lines of a renewal invoice (one per
destination group) and the balance history. Every query is scoped by the client's id."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from portal.billing import Period, UsageCharge
from portal.plugin_api import Service, business_zone, credit_balance, session
from portal_telephony import plan_months
from portal_telephony.rating_models import Call, ClientTerms

CSV_COLUMNS = (
    "started_at",
    "src",
    "dst",
    "destination",
    "group_name",
    "billsec",
    "billed_seconds",
    "included_seconds",
    "cost",
    "currency",
)


@dataclass(frozen=True)
class CallFilters:
    since: date | None = None
    until: date | None = None
    group: str = ""
    number: str = ""

    @classmethod
    def from_args(cls, args: Any) -> CallFilters:
        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(args.get(name, "").strip()) if args.get(name) else None
            except ValueError:
                return None

        return cls(
            day("since"), day("until"), args.get("group", "")[:60], args.get("number", "")[:40]
        )


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def client_calls(client_id: int, filters: CallFilters = CallFilters()) -> Select[Any]:
    """The client's calls, newest first, filtered."""
    query = select(Call).where(Call.client_id == client_id)
    if filters.since:
        query = query.where(Call.started_at >= _moment(filters.since))
    if filters.until:
        query = query.where(Call.started_at < _moment(filters.until) + timedelta(days=1))
    if filters.group:
        query = query.where(Call.group_name == filters.group)
    if filters.number:
        digits = "".join(ch for ch in filters.number if ch.isdigit())
        if digits:
            query = query.where(Call.dst.contains(digits) | Call.src.contains(digits))
    return query.order_by(Call.started_at.desc(), Call.id.desc())


def groups(client_id: int) -> list[str]:
    return list(
        session().scalars(
            select(Call.group_name)
            .where(Call.client_id == client_id)
            .distinct()
            .order_by(Call.group_name)
        )
    )


def detail_csv(client_id: int, filters: CallFilters = CallFilters()) -> str:
    """The call detail report as CSV (UTF-8 with a BOM, so Excel reads the Cyrillic), amounts
    as plain decimals; streamed from the database in chunks."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    result = session().execute(client_calls(client_id, filters).execution_options(yield_per=2000))
    for (call,) in result:
        writer.writerow([call.started_at.isoformat(), *(getattr(call, c) for c in CSV_COLUMNS[1:])])
    return out.getvalue()


def period_charges(service: Service, period: Period) -> list[UsageCharge]:
    """The postpaid calls of ``service`` started in ``period`` (``[start, end)``), one line per
    destination group: "Calls: mobile, 125 min" at the sum of the calls' costs (each rounded
    once when it was rated, so the line is their exact sum). The period's days are business
    dates (the portal's time zone), as the plan months of included minutes are."""
    first, end = plan_months.moments(period, business_zone())
    rows = (
        session()
        .execute(
            select(
                Call.group_name,
                func.count(),
                func.sum(Call.billed_seconds),
                func.sum(Call.cost),
            )
            .where(
                Call.service_id == service.id,
                Call.prepaid.is_(False),
                Call.started_at >= first,
                Call.started_at < end,
            )
            .group_by(Call.group_name)
            .order_by(Call.group_name)
        )
        .all()
    )
    charges = []
    for group, count, seconds, total in rows:
        minutes = -(-int(seconds or 0) // 60)
        charges.append(
            UsageCharge(
                _(
                    "Calls: %(group)s, %(count)s calls, %(minutes)s min",
                    group=group,
                    count=count,
                    minutes=minutes,
                ),
                Decimal(1),
                Decimal(total or 0).quantize(Decimal("0.01")),
            )
        )
    return [charge for charge in charges if charge.unit_price > 0]


def balance_of(client: Any) -> tuple[ClientTerms | None, Decimal]:
    return session().get(ClientTerms, client.id), credit_balance(client)
