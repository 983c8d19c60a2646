"""Debtors (должники): what clients owe on issued invoices, by client, manager or month of
issue, aged by days past due at a date.

An invoice is owed while it is unpaid, partly paid or with collections (the debt is still the
client's, ``credit_terms.OWED``); its debt is ``total - amount_paid``. Credit notes and top-up
invoices are not debts. The aging buckets count the days from the due date to the "as of" date:
not yet due, 0–30 (due that day included), 31–60, 61–90 and over 90. The figures are today's
balances of the invoices issued by that date: a payment received later already counts.

Everything is summed in the database (one GROUP BY with a CASE per bucket); the totals per
currency are their own query, so a long list can be cut without changing them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, func, or_, select
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from portal import billing
from portal.accounts.models import Client, Staff
from portal.catalog.currencies import default_currency
from portal.core import clock as portal_clock
from portal.core.column_types import MoneyType
from portal.core.extensions import db
from portal.invoicing.credit_terms import OWED
from portal.invoicing.models import CreditEntry, Invoice, InvoiceKind
from portal.platform.report_filters import ReportFilters
from portal.platform.reports import Chart, Column, ColumnKind, Report, ReportResult, client_link
from portal.reports.periods import bucket

#: Bucket keys in the order the columns show them; the bounds are days past due (inclusive).
BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("not_due", None, -1),
    ("days_0_30", 0, 30),
    ("days_31_60", 31, 60),
    ("days_61_90", 61, 90),
    ("days_over_90", 91, None),
)
#: The client list is cut here (the largest debts first); the totals always cover everyone.
CLIENT_ROWS = 1000


class Grouping(enum.StrEnum):
    CLIENT = "client"
    MANAGER = "manager"
    MONTH = "month"


@dataclass(frozen=True)
class Aging:
    """What is owed in one currency, split by days past due."""

    currency: str
    invoices: int
    balance: Decimal
    not_due: Decimal
    days_0_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    days_over_90: Decimal

    @property
    def buckets(self) -> tuple[Decimal, ...]:
        return tuple(getattr(self, key) for key, _low, _high in BUCKETS)


@dataclass(frozen=True)
class DebtorRow:
    """One line of the report: a client, a manager or a month of issue, in one currency.

    ``key`` is the client's or the manager's id (None: no manager) or the month (its first day).
    Credit balance and limit are filled for clients only."""

    key: int | date | None
    name: str
    aging: Aging
    credit_balance: Decimal | None = None
    credit_limit: Decimal | None = None


def _balance() -> Any:
    return Invoice.total - Invoice.amount_paid


def _bucket_sums(as_of: date) -> list[Any]:
    """``SUM(CASE WHEN due_date in the bucket THEN balance ELSE 0 END)`` per bucket; the due
    date bounds are computed here, so the database compares dates and never does date math."""
    zero = Decimal(0)
    sums = []
    for key, low, high in BUCKETS:
        if low is None:  # not yet due (or no due date at all)
            condition: Any = or_(Invoice.due_date.is_(None), Invoice.due_date > as_of)
        else:
            condition = Invoice.due_date <= as_of - timedelta(days=low)
            if high is not None:
                condition = and_(condition, Invoice.due_date >= as_of - timedelta(days=high))
        sums.append(
            func.sum(case((condition, _balance()), else_=zero), type_=MoneyType()).label(key)
        )
    return sums


def owed_invoices(as_of: date) -> Any:
    """The WHERE clause of the invoices owed at ``as_of`` (issued by then, still unpaid)."""
    return and_(
        Invoice.kind == InvoiceKind.INVOICE,
        Invoice.status.in_(OWED),
        Invoice.issue_date <= as_of,
    )


def _aging(row: Any) -> Aging:
    currency = row.currency

    def money(value: Decimal | None) -> Decimal:
        return billing.round_money(value or Decimal(0), currency)

    return Aging(
        currency,
        int(row.invoices),
        money(row.balance),
        *(money(getattr(row, key)) for key, _low, _high in BUCKETS),
    )


def _aging_columns(as_of: date) -> list[Any]:
    return [
        Invoice.currency.label("currency"),
        func.count().label("invoices"),  # not count(id): the index covers no id
        func.sum(_balance(), type_=MoneyType()).label("balance"),
        *_bucket_sums(as_of),
    ]


def _filtered(
    query: Select[Any], as_of: date, currency: str | None, manager_id: int | None
) -> Select[Any]:
    query = query.where(owed_invoices(as_of))
    if currency:
        query = query.where(Invoice.currency == currency)
    if manager_id is not None:
        query = query.where(Client.manager_id == manager_id)
    return query


def debtors_total(as_of: date) -> dict[str, Decimal]:
    """What clients owe at ``as_of`` per currency (the owners' dashboard shows it)."""
    rows = db.session.execute(
        select(Invoice.currency, func.sum(_balance(), type_=MoneyType()))
        .where(owed_invoices(as_of))
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    )
    return {
        currency: billing.round_money(amount or Decimal(0), currency) for currency, amount in rows
    }


def totals(
    as_of: date, *, currency: str | None = None, manager_id: int | None = None
) -> list[Aging]:
    """The aging of everything owed, one line per currency."""
    query = select(*_aging_columns(as_of)).select_from(Invoice)
    if manager_id is not None:
        query = query.join(Client, Client.id == Invoice.client_id)
    query = _filtered(query, as_of, currency, manager_id)
    rows = db.session.execute(query.group_by(Invoice.currency).order_by(Invoice.currency))
    return [_aging(row) for row in rows]


def by_client(
    as_of: date,
    *,
    currency: str | None = None,
    manager_id: int | None = None,
    limit: int = CLIENT_ROWS,
) -> list[DebtorRow]:
    """Debtors with their credit balance and limit: per currency, the largest debts first.

    The debts are ranked and cut first; only the rows kept are joined to the clients and
    their credit balances (a lookup each, by the credit ledger's client index)."""
    owed = select(Invoice.client_id.label("client_id"), *_aging_columns(as_of))
    if manager_id is not None:
        owed = owed.join(Client, Client.id == Invoice.client_id)
    balance = func.sum(_balance())
    owed = (
        _filtered(owed, as_of, currency, manager_id)
        .group_by(Invoice.client_id, Invoice.currency)
        .order_by(Invoice.currency, balance.desc(), Invoice.client_id)
        .limit(limit)
        .subquery("owed")
    )
    credit = (
        select(func.sum(CreditEntry.amount, type_=MoneyType()))
        .where(CreditEntry.client_id == owed.c.client_id, CreditEntry.currency == owed.c.currency)
        .scalar_subquery()
    )
    query = (
        select(
            owed,
            Client.company,
            Client.first_name,
            Client.last_name,
            Client.credit_limit,
            Client.currency.label("client_currency"),
            credit.label("credit"),
        )
        .join(Client, Client.id == owed.c.client_id)
        .order_by(owed.c.currency, owed.c.balance.desc(), owed.c.client_id)
    )
    result = []
    for row in db.session.execute(query):
        name = row.company or f"{row.first_name} {row.last_name}".strip()
        # The limit is in the client's own currency; a debt in another one has none.
        limit_here = row.credit_limit if row.client_currency == row.currency else None
        result.append(
            DebtorRow(
                row.client_id,
                name,
                _aging(row),
                billing.round_money(row.credit or Decimal(0), row.currency),
                limit_here,
            )
        )
    return result


def by_manager(
    as_of: date, *, currency: str | None = None, manager_id: int | None = None
) -> list[DebtorRow]:
    """Debts of each manager's clients (``client.manager_id``); clients without one last."""
    query = _filtered(
        select(Client.manager_id.label("manager_id"), *_aging_columns(as_of))
        .select_from(Invoice)
        .join(Client, Client.id == Invoice.client_id),
        as_of,
        currency,
        manager_id,
    ).group_by(Client.manager_id, Invoice.currency)
    owed = query.subquery("owed")
    rows = db.session.execute(
        select(owed, Staff.first_name, Staff.last_name)
        .outerjoin(Staff, Staff.id == owed.c.manager_id)
        .order_by(owed.c.manager_id.is_(None), Staff.last_name, Staff.first_name, owed.c.currency)
    )
    return [
        DebtorRow(
            row.manager_id,
            f"{row.first_name or ''} {row.last_name or ''}".strip(),
            _aging(row),
        )
        for row in rows
    ]


def by_month(
    as_of: date, *, currency: str | None = None, manager_id: int | None = None
) -> list[DebtorRow]:
    """Debts by the month the invoices were issued, oldest first."""
    month = bucket(Invoice.issue_date, "month").label("month")
    query = select(month, *_aging_columns(as_of)).select_from(Invoice)
    if manager_id is not None:
        query = query.join(Client, Client.id == Invoice.client_id)
    rows = db.session.execute(
        _filtered(query, as_of, currency, manager_id)
        .group_by(month, Invoice.currency)
        .order_by(month, Invoice.currency)
    )
    return [DebtorRow(row.month, "", _aging(row)) for row in rows]


def rows_for(
    grouping: Grouping,
    as_of: date,
    *,
    currency: str | None = None,
    manager_id: int | None = None,
) -> Sequence[DebtorRow]:
    """The report's lines for one grouping."""
    build = {Grouping.CLIENT: by_client, Grouping.MANAGER: by_manager, Grouping.MONTH: by_month}
    return build[grouping](as_of, currency=currency, manager_id=manager_id)


# --- the report ----------------------------------------------------------------------------------

GROUPINGS = (
    (Grouping.CLIENT.value, _l("Client")),
    (Grouping.MANAGER.value, _l("Manager")),
    (Grouping.MONTH.value, _l("Month of issue")),
)


def _bucket_labels() -> list[str]:
    return [_("Not yet due"), _("0–30 days"), _("31–60 days"), _("61–90 days"), _("Over 90 days")]


class DebtorFilters(ReportFilters):
    period = None
    since = None
    until = None
    product_group = None
    product = None
    as_of = DateField(_l("As of"), default=portal_clock.today, validators=[Optional()])
    group_by = SelectField(_l("Group by"), choices=GROUPINGS, default=Grouping.CLIENT.value)


class DebtorsReport(Report):
    name = "debtors"
    label = _l("Debtors and aging")
    description = _l(
        "Unpaid, partly paid and collections invoices issued by the date, aged by days past "
        "due at that date; balances as they are now. By client: the 1000 largest debts, the "
        "totals count all."
    )
    filters = DebtorFilters
    order = 30

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        as_of = filters.get("as_of") or portal_clock.today()
        currency = filters.get("currency") or default_currency()
        manager_id = filters.get("manager")
        grouping = Grouping(filters.get("group_by") or Grouping.CLIENT)
        lines = rows_for(grouping, as_of, currency=currency, manager_id=manager_id)
        first: Column
        if grouping is Grouping.CLIENT:
            first = Column(_("Client"), ColumnKind.LINK)
        elif grouping is Grouping.MANAGER:
            first = Column(_("Manager"))
        else:
            first = Column(_("Month of issue"), ColumnKind.MONTH)
        columns = [
            first,
            Column(_("Invoices"), ColumnKind.NUMBER),
            *(Column(label, ColumnKind.MONEY) for label in _bucket_labels()),
            Column(_("Balance due"), ColumnKind.MONEY),
        ]
        extra = grouping is Grouping.CLIENT
        if extra:
            columns += [
                Column(_("Credit balance"), ColumnKind.MONEY),
                Column(_("Credit limit"), ColumnKind.MONEY),
            ]
        rows = []
        for line in lines:
            if grouping is Grouping.CLIENT:
                key: Any = client_link(int(line.key or 0), line.name)
            elif grouping is Grouping.MANAGER:
                key = line.name or _("No manager")
            else:
                key = line.key
            row = [key, line.aging.invoices, *line.aging.buckets, line.aging.balance]
            if extra:
                row += [line.credit_balance, line.credit_limit]
            rows.append(row)
        total = next(iter(totals(as_of, currency=currency, manager_id=manager_id)), None)
        total_row = None
        chart = None
        if total is not None:
            total_row = [None, total.invoices, *total.buckets, total.balance]
            if extra:
                total_row += [None, None]
            chart = Chart(
                "bar",
                _bucket_labels(),
                [(_("Owed"), list(total.buckets))],
                title=_("What is owed by days past due"),
                currency=currency,
            )
        return ReportResult(columns, rows, chart=chart, totals=total_row, currency=currency)
