"""MRR and ARR per currency, their movements per month, churn rates and cohort retention.

The definitions are Lago's. MRR is what the clients' services promise to pay per month, from
their recurring prices, not from invoices: a service's price per period (staff's price override
when set, else its recurring amount with its options) plus its active add-ons, divided by the
months of its cycle (quarterly /3, semi-annual /6, annual /12, biennial /24, triennial /36).
Free and one-time services, setup fees, usage charges, tax and first-invoice promo codes are
not in it (none of them is in a service's recurring amount). Suspended services still count:
the subscription runs until it is terminated.

Movements compare each client's MRR at the end of a month with that at the end of the previous
month: **new** (0 before, never paid before), **reactivation** (0 before, had bought a recurring
service before), **expansion** (more), **contraction** (less, still above 0), **churn** (down to
0). A plan change is an expansion or a contraction of the same client, never churn + new.

History. The portal keeps no table of past MRR; a service's past is read from what is kept:
its registration date (start), ``terminated_at`` (end) and the applied changes of plan
(``service_change``: old product, cycle and price, applied at). What is not kept is documented
in docs/reports.md ("MRR and ARR", "What the history cannot tell").

Exactness. Sums are taken in the database in 72nds of a month (72 is the least common multiple
of the cycles' months): a period price times 72/months is exact, so a sum over any services is
exact too; a figure is divided by 72 and rounded to kopecks once, half up
(:func:`portal.billing.money.scale`). Each figure is rounded on its own, so the movements of a
month may differ from the change of MRR by a kopeck.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from portal.accounts.models import Client
from portal.billing import money
from portal.billing.cycles import Cycle
from portal.core.clock import today as business_today
from portal.core.column_types import MoneyType
from portal.core.extensions import db
from portal.orders.models import (
    ChangeStatus,
    Order,
    OrderItem,
    OrderKind,
    Service,
    ServiceAddon,
    ServiceChange,
    ServiceStatus,
)

#: The least common multiple of the recurring cycles' months: sums are kept in 72nds of a month.
UNITS = 72
#: Period price x FACTORS[cycle] = 72 x the monthly price (0 for free and one-time cycles).
FACTORS: dict[str, int] = {
    cycle.value: (UNITS // cycle.months if cycle.months else 0) for cycle in Cycle
}
RECURRING_CYCLES = tuple(cycle.value for cycle in Cycle if cycle.is_recurring)
#: Statuses of a service that is running (a suspended one is still subscribed).
RUNNING = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)
#: Statuses of a service that has ended; its end is ``terminated_at``.
ENDED = (ServiceStatus.TERMINATED, ServiceStatus.CANCELLED)

assert all(UNITS % cycle.months == 0 for cycle in Cycle if cycle.months)


@dataclass(frozen=True)
class Scope:
    """What a report is narrowed to; ``None`` means all."""

    currency: str | None = None
    product_id: int | None = None
    manager_id: int | None = None


EVERYTHING = Scope()


# --- time -----------------------------------------------------------------------------------------


def end_of_day(day: date) -> datetime:
    """The instant a business day ends (midnight of the next day in the provider's zone), UTC."""
    zone = ZoneInfo(current_app.config["PORTAL"]["default_timezone"])
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month``'s."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def month_close(month: date, today: date) -> date:
    """The day a month's figures are read at: its last day, or ``today`` for the current one."""
    return min(month_end(month), today)


def to_money(units: Decimal | int | None, currency: str) -> Decimal:
    """A sum in 72nds of a month as money per month, rounded once to the currency's minor unit."""
    return money.scale(Decimal(units or 0), 1, UNITS, currency)


# --- the MRR of each service at an instant --------------------------------------------------------


def _factor(cycle: ColumnElement[Any]) -> ColumnElement[int]:
    return case(FACTORS, value=cycle, else_=0)


def service_mrr(day: date, scope: Scope = EVERYTHING) -> Select[Any]:
    """One row per service running at the end of ``day``: service, client, currency, product
    and its MRR in 72nds (``units``), at the price, cycle and product it had then.

    The state at an instant is the service's current one unless a change of plan was applied
    after it: then it is that change's "old" side (the first such change).
    """
    moment = end_of_day(day)
    later = aliased(ServiceChange)
    first_later_change = (
        select(func.min(ServiceChange.id))
        .where(
            ServiceChange.service_id == Service.id,
            ServiceChange.status == ChangeStatus.APPLIED,
            ServiceChange.applied_at >= moment,
            ServiceChange.change_date >= Service.registration_date,
        )
        .correlate(Service)
        .scalar_subquery()
    )
    addons = (
        select(func.coalesce(func.sum(ServiceAddon.recurring_amount), 0))
        .where(
            ServiceAddon.service_id == Service.id,
            ServiceAddon.status.in_(RUNNING),
            ServiceAddon.registration_date <= day,
        )
        .correlate(Service)
        .scalar_subquery()
    )
    changed = later.id.is_not(None)
    price = case(
        (changed, later.old_price),
        else_=func.coalesce(Service.price_override, Service.recurring_amount),
    )
    cycle = case((changed, later.old_cycle), else_=Service.cycle)
    product = case((changed, later.old_product_id), else_=Service.product_id)
    units = type_coerce((price + type_coerce(addons, MoneyType())) * _factor(cycle), MoneyType())
    running = and_(
        Service.status != ServiceStatus.PENDING,
        Service.registration_date <= day,
        or_(
            Service.status.in_(RUNNING),
            and_(Service.status.in_(ENDED), Service.terminated_at >= moment),
        ),
    )
    query = (
        select(
            Service.id.label("service_id"),
            Service.client_id.label("client_id"),
            Service.currency.label("currency"),
            product.label("product_id"),
            units.label("units"),
        )
        .select_from(Service)
        .outerjoin(later, later.id == first_later_change)
        .where(running)
    )
    if scope.currency:
        query = query.where(Service.currency == scope.currency)
    if scope.product_id is not None:
        query = query.where(product == scope.product_id)
    if scope.manager_id is not None:
        query = query.join(Client, Client.id == Service.client_id).where(
            Client.manager_id == scope.manager_id
        )
    return query


# --- MRR and ARR ----------------------------------------------------------------------------------


def mrr_units_by_currency(day: date, scope: Scope = EVERYTHING) -> dict[str, Decimal]:
    rows = service_mrr(day, scope).subquery()
    totals = db.session.execute(
        select(rows.c.currency, type_coerce(func.sum(rows.c.units), MoneyType()))
        .group_by(rows.c.currency)
        .order_by(rows.c.currency)
    )
    return {currency: Decimal(units or 0) for currency, units in totals}


def mrr_by_currency(day: date) -> dict[str, Decimal]:
    """MRR at the end of ``day`` per currency (only currencies with running services)."""
    return {
        currency: to_money(units, currency)
        for currency, units in mrr_units_by_currency(day).items()
    }


def arr(mrr_units: Decimal, currency: str) -> Decimal:
    """ARR = 12 x MRR, from the exact sum (12/72 = 1/6), rounded once."""
    return money.scale(mrr_units, 12, UNITS, currency)


def mrr_series(first_month: date, months: int, currency: str) -> list[tuple[date, Decimal]]:
    """MRR in ``currency`` at the end of each of ``months`` months from ``first_month`` (the
    current month: at the end of today); months after today are left out."""
    today = business_today()
    series = []
    for index in range(months):
        month = add_months(month_start(first_month), index)
        if month > today:
            break
        units = mrr_units_by_currency(month_close(month, today), Scope(currency=currency))
        series.append((month, to_money(units.get(currency, 0), currency)))
    return series


# --- movements ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movements:
    """One month of one currency; amounts are MRR per month, counts are clients."""

    month: date
    currency: str
    starting: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    reactivation: Decimal
    ending: Decimal
    #: 12 x the ending MRR, from the exact sum, rounded once.
    arr: Decimal
    clients_start: int
    clients_end: int
    new_clients: int
    churned_clients: int
    reactivated_clients: int

    @property
    def net(self) -> Decimal:
        return self.new + self.expansion - self.contraction - self.churn + self.reactivation

    @property
    def customer_churn_rate(self) -> Decimal | None:
        """Clients lost in the month / paying clients at its start, in per cent (0.1)."""
        return percent(self.churned_clients, self.clients_start)

    @property
    def mrr_churn_rate(self) -> Decimal | None:
        """Churned and contracted MRR / starting MRR, in per cent (gross revenue churn)."""
        if not self.starting:
            return None
        return (100 * (self.churn + self.contraction) / self.starting).quantize(Decimal("0.1"))


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"))


def _both_ends(start: date, end: date, scope: Scope, key: str) -> Any:
    """Per ``key`` (client or service) and currency, the MRR at the end of ``start`` (``before``)
    and of ``end`` (``after``), in 72nds, as a subquery."""
    sides = union_all(
        service_mrr(start, scope).add_columns(literal(0).label("side")),
        service_mrr(end, scope).add_columns(literal(1).label("side")),
    ).subquery()
    keyed = sides.c[key]
    return (
        select(
            keyed.label("key"),
            sides.c.currency,
            type_coerce(
                func.sum(case((sides.c.side == 0, sides.c.units), else_=0)), MoneyType()
            ).label("before"),
            type_coerce(
                func.sum(case((sides.c.side == 1, sides.c.units), else_=0)), MoneyType()
            ).label("after"),
        )
        .group_by(keyed, sides.c.currency)
        .subquery()
    )


def _bought_before(client_id: ColumnElement[int], day: date) -> ColumnElement[bool]:
    """The client had a recurring service before ``day``: a service registered earlier, or an
    accepted order for one (a service reopened for the same product keeps one row and its latest
    registration date, so its first life is seen through its order)."""
    service = exists().where(
        Service.client_id == client_id,
        Service.status != ServiceStatus.PENDING,
        Service.cycle.in_(RECURRING_CYCLES),
        Service.registration_date < day,
    )
    ordered = exists().where(
        Order.client_id == client_id,
        Order.kind == OrderKind.NEW,
        Order.accepted_at.is_not(None),
        Order.accepted_at < end_of_day(day - timedelta(days=1)),
        OrderItem.order_id == Order.id,
        OrderItem.cycle.in_(RECURRING_CYCLES),
    )
    return or_(service, ordered)


def month_movements(month: date, today: date, scope: Scope = EVERYTHING) -> list[Movements]:
    """The movements of ``month`` per currency (the current month: up to ``today``)."""
    month = month_start(month)
    pairs = _both_ends(month - timedelta(days=1), month_close(month, today), scope, "client_id")
    before, after = pairs.c.before, pairs.c.after
    returning = _bought_before(pairs.c.key, month)
    gained = and_(before == 0, after > 0)
    kept = and_(before > 0, after > 0)
    lost = and_(before > 0, after == 0)
    zero = literal(0)

    def total(condition: ColumnElement[bool], value: Any) -> Any:
        return type_coerce(func.sum(case((condition, value), else_=zero)), MoneyType())

    def count(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    rows = db.session.execute(
        select(
            pairs.c.currency,
            total(literal(True), before),
            total(and_(gained, ~returning), after),
            total(and_(kept, after > before), after - before),
            total(and_(kept, after < before), before - after),
            total(lost, before),
            total(and_(gained, returning), after),
            total(literal(True), after),
            count(before > 0),
            count(after > 0),
            count(and_(gained, ~returning)),
            count(lost),
            count(and_(gained, returning)),
        )
        .group_by(pairs.c.currency)
        .order_by(pairs.c.currency)
    ).all()
    result = []
    for currency, *figures in rows:
        money = [to_money(value, currency) for value in figures[:7]]
        counts = [int(value or 0) for value in figures[7:]]
        yearly = arr(Decimal(figures[6] or 0), currency)
        result.append(Movements(month, currency, *money, yearly, *counts))
    return result


def movements(first_month: date, months: int, scope: Scope = EVERYTHING) -> list[Movements]:
    """Movements of ``months`` months from ``first_month``, per currency, oldest first; one
    aggregate query per month."""
    today = business_today()
    result: list[Movements] = []
    for index in range(months):
        month = add_months(month_start(first_month), index)
        if month > today:
            break
        result.extend(month_movements(month, today, scope))
    return result


# --- subscription churn ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionChurn:
    month: date
    currency: str
    #: Services with MRR above 0 at the start of the month.
    subscriptions: int
    #: Of those, the ones with no MRR at its end (terminated, cancelled or made free).
    churned: int

    @property
    def rate(self) -> Decimal | None:
        return percent(self.churned, self.subscriptions)


def subscription_churn(
    first_month: date, months: int, scope: Scope = EVERYTHING
) -> list[SubscriptionChurn]:
    """Per month and currency, paying services at the start and how many of them stopped
    paying by the end (a plan change keeps the service: it is not churn)."""
    today = business_today()
    result = []
    for index in range(months):
        month = add_months(month_start(first_month), index)
        if month > today:
            break
        pairs = _both_ends(
            month - timedelta(days=1), month_close(month, today), scope, "service_id"
        )
        rows = db.session.execute(
            select(
                pairs.c.currency,
                func.sum(case((pairs.c.before > 0, 1), else_=0)),
                func.sum(case((and_(pairs.c.before > 0, pairs.c.after == 0), 1), else_=0)),
            )
            .group_by(pairs.c.currency)
            .order_by(pairs.c.currency)
        )
        for currency, paying, churned in rows:
            result.append(SubscriptionChurn(month, currency, int(paying or 0), int(churned or 0)))
    return result


# --- cohorts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    """Clients whose first recurring service started in ``month``; ``paying[n]`` of them still
    had MRR above 0 at the end of the n-th month after it (n = 0 is the month itself)."""

    month: date
    clients: int
    paying: tuple[int, ...]

    def share(self, index: int) -> Decimal | None:
        return percent(self.paying[index], self.clients) if index < len(self.paying) else None


def _first_months(scope: Scope) -> Any:
    """Each client's first recurring service: (client, year, month) as a subquery."""
    first = (
        select(
            Service.client_id.label("client_id"),
            func.min(Service.registration_date).label("first_day"),
        )
        .where(Service.status != ServiceStatus.PENDING, Service.cycle.in_(RECURRING_CYCLES))
        .group_by(Service.client_id)
    )
    if scope.currency:
        first = first.where(Service.currency == scope.currency)
    if scope.manager_id is not None:
        first = first.join(Client, Client.id == Service.client_id).where(
            Client.manager_id == scope.manager_id
        )
    first = first.subquery()
    return select(
        first.c.client_id,
        extract("year", first.c.first_day).label("year"),
        extract("month", first.c.first_day).label("month"),
    ).subquery()


def cohorts(first_month: date, months: int, scope: Scope = EVERYTHING) -> list[Cohort]:
    """The retention table of the cohorts of ``months`` months from ``first_month``: one query
    for the cohorts' sizes and one per month end for who still pays."""
    today = business_today()
    first_month = month_start(first_month)
    wanted = [add_months(first_month, i) for i in range(months)]
    wanted = [m for m in wanted if m <= today]
    cohort = _first_months(scope)
    sizes = {
        (int(year), int(month)): int(count)
        for year, month, count in db.session.execute(
            select(cohort.c.year, cohort.c.month, func.count()).group_by(
                cohort.c.year, cohort.c.month
            )
        )
    }
    paying: dict[tuple[int, int], dict[date, int]] = defaultdict(dict)
    for month in wanted:
        rows = service_mrr(month_close(month, today), scope).subquery()
        clients = (
            select(rows.c.client_id)
            .group_by(rows.c.client_id)
            .having(func.sum(rows.c.units) > 0)
            .subquery()
        )
        for year, number, count in db.session.execute(
            select(cohort.c.year, cohort.c.month, func.count())
            .join(clients, clients.c.client_id == cohort.c.client_id)
            .group_by(cohort.c.year, cohort.c.month)
        ):
            paying[(int(year), int(number))][month] = int(count)
    table = []
    for month in wanted:
        key = (month.year, month.month)
        later = [m for m in wanted if m >= month]
        table.append(Cohort(month, sizes.get(key, 0), tuple(paying[key].get(m, 0) for m in later)))
    return table


def rows_by_month(items: Sequence[Movements]) -> dict[str, list[Movements]]:
    """Movements grouped by currency, each list oldest first."""
    grouped: dict[str, list[Movements]] = defaultdict(list)
    for item in items:
        grouped[item.currency].append(item)
    return dict(grouped)
