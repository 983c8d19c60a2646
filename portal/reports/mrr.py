"""MRR and ARR per currency and their movements per month (churn and cohorts build on it).

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
in docs/reports.md ("MRR and ARR", "What the history can and cannot tell").

Exactness. Sums are taken in the database in 72nds of a month (72 is the least common multiple
of the cycles' months): a period price times 72/months is exact, so a sum over any services is
exact too; a figure is divided by 72 and rounded to kopecks once, half up
(:func:`portal.billing.money.scale`). Each figure is rounded on its own, so the movements of a
month may differ from the change of MRR by a kopeck.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
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
from portal.platform.report_filters import ReportFilters, add_months, month_start
from portal.platform.reports import (
    Chart,
    Column,
    Report,
    ReportResult,
    short_month_label,
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


def _scaled(price: Any, cycle: Any, product: Any, scope: Scope) -> Any:
    """``price`` x 72 / the cycle's months, or 0 out of the scope's product."""
    units = price * _factor(cycle)
    if scope.product_id is None:
        return units
    return units * case((product == scope.product_id, 1), else_=0)


def service_mrr(day: date, scope: Scope = EVERYTHING) -> Select[Any]:
    """One row per service running at the end of ``day``: service, client, currency, product
    and its MRR in 72nds (``units``), at the price, cycle and product it had then.

    The state at an instant is the service's current one unless a change of plan was applied
    after it: then it is that change's "old" side (the first such change). Add-ons count with
    the service's current cycle and product. Out of a product scope a row's units are 0.
    """
    moment = end_of_day(day)
    # Joined as grouped subqueries (hash joins), not correlated per service row.
    owner = aliased(Service)
    first_later_changes = (
        select(
            ServiceChange.service_id.label("service_id"),
            func.min(ServiceChange.id).label("change_id"),
        )
        .join(owner, owner.id == ServiceChange.service_id)
        .where(
            ServiceChange.status == ChangeStatus.APPLIED,
            ServiceChange.applied_at >= moment,
            ServiceChange.change_date >= owner.registration_date,
        )
        .group_by(ServiceChange.service_id)
        .subquery()
    )
    later = aliased(ServiceChange)
    addons = (
        select(
            ServiceAddon.service_id.label("service_id"),
            type_coerce(func.sum(ServiceAddon.recurring_amount), MoneyType()).label("amount"),
        )
        .where(ServiceAddon.status.in_(RUNNING), ServiceAddon.registration_date <= day)
        .group_by(ServiceAddon.service_id)
        .subquery()
    )
    changed = later.id.is_not(None)
    price = case(
        (changed, later.old_price),
        else_=func.coalesce(Service.price_override, Service.recurring_amount),
    )
    cycle = case((changed, later.old_cycle), else_=Service.cycle)
    product = case((changed, later.old_product_id), else_=Service.product_id)
    held = type_coerce(func.coalesce(addons.c.amount, 0), MoneyType())
    units = type_coerce(
        _scaled(price, cycle, product, scope)
        + _scaled(held, Service.cycle, Service.product_id, scope),
        MoneyType(),
    )
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
        .outerjoin(first_later_changes, first_later_changes.c.service_id == Service.id)
        .outerjoin(later, later.id == first_later_changes.c.change_id)
        .outerjoin(addons, addons.c.service_id == Service.id)
        .where(running)
    )
    if scope.currency:
        query = query.where(Service.currency == scope.currency)
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
    current month: at the end of today); months after today are left out. One query."""
    timeline = Timeline(first_month, months, business_today())
    flows = flows_by_month(timeline, Scope(currency=currency), "client_id", returning=False)
    units = flows.get((0, currency), Flow()).delta
    series = []
    for index, month in enumerate(timeline.months, start=1):
        units += flows.get((index, currency), Flow()).delta
        series.append((month, to_money(units, currency)))
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


# --- the timeline: MRR as the sum of its changes --------------------------------------------------
#
# A service's MRR changes at a few events: it starts (registration date), a plan change is
# applied, it ends (terminated_at), an add-on is added. Each event is a delta in 72nds; the MRR
# at an instant is the sum of the deltas before it. Bucketing the deltas by the month ends of a
# period gives, in one pass over services, changes and add-ons, every month's totals and, per
# client (or service) with an event in a month, its MRR before and after: the movements.
# The rules are service_mrr's, so both give the same MRR at any month end.


class Timeline:
    """The month ends of a period as instants: bucket 0 is everything up to the end of the day
    before the first month, bucket i (1..n) what happens during month i; later events are left
    out."""

    def __init__(self, first_month: date, months: int, today: date) -> None:
        first_month = month_start(first_month)
        self.months = [add_months(first_month, i) for i in range(months)]
        self.months = [m for m in self.months if m <= today]
        self.days = [first_month - timedelta(days=1)]
        self.days += [month_close(m, today) for m in self.months]
        self.moments = [end_of_day(day) for day in self.days]

    def by_day(self, day: ColumnElement[date]) -> ColumnElement[int]:
        """The bucket of an event of a day (a service counts from its registration day)."""
        whens = [(day <= d, i) for i, d in enumerate(self.days)]
        return case(*whens, else_=len(self.days))

    def by_moment(self, moment: ColumnElement[datetime]) -> ColumnElement[int]:
        """The bucket of an event at an instant (it shows at the month ends after it)."""
        whens = [(moment < t, i) for i, t in enumerate(self.moments)]
        return case(*whens, else_=len(self.moments))


def _units(price: Any, cycle: Any, product: Any, scope: Scope) -> Any:
    return type_coerce(_scaled(price, cycle, product, scope), MoneyType())


def _deltas(timeline: Timeline, scope: Scope, orders: bool = False) -> Any:
    """Every event as (service, client, currency, bucket, delta in 72nds, ``buys``), a
    subquery. ``buys`` is 1 on the start of a recurring service and, with ``orders``, on a
    client's first accepted order for one: the first bucket with a purchase tells a client
    coming back from a new one."""
    current_price = func.coalesce(Service.price_override, Service.recurring_amount)
    current = _units(current_price, Service.cycle, Service.product_id, scope)
    counted = and_(
        Service.status != ServiceStatus.PENDING,
        or_(
            Service.status.in_(RUNNING),
            and_(Service.status.in_(ENDED), Service.terminated_at.is_not(None)),
        ),
    )
    if scope.currency:
        counted = and_(counted, Service.currency == scope.currency)
    if scope.manager_id is not None:
        managed = select(Client.id).where(Client.manager_id == scope.manager_id)
        counted = and_(counted, Service.client_id.in_(managed))
    in_life = and_(
        ServiceChange.status == ChangeStatus.APPLIED,
        ServiceChange.change_date >= Service.registration_date,
    )
    first_change = (
        select(
            ServiceChange.service_id.label("service_id"),
            func.min(ServiceChange.id).label("change_id"),
        )
        .join(Service, Service.id == ServiceChange.service_id)
        .where(in_life)
        .group_by(ServiceChange.service_id)
        .subquery()
    )
    first = aliased(ServiceChange)
    started = case(
        (
            first.id.is_not(None),
            _units(first.old_price, first.old_cycle, first.old_product_id, scope),
        ),
        else_=current,
    )
    key = (
        Service.id.label("service_id"),
        Service.client_id.label("client_id"),
        Service.currency.label("currency"),
    )
    recurring = case((Service.cycle.in_(RECURRING_CYCLES), 1), else_=0)
    starts = (
        select(*key, timeline.by_day(Service.registration_date).label("bucket"))
        .add_columns(started.label("delta"), recurring.label("buys"))
        .outerjoin(first_change, first_change.c.service_id == Service.id)
        .outerjoin(first, first.id == first_change.c.change_id)
        .where(counted)
    )
    old = _units(
        ServiceChange.old_price, ServiceChange.old_cycle, ServiceChange.old_product_id, scope
    )
    following = (
        select(
            *key,
            timeline.by_moment(ServiceChange.applied_at).label("bucket"),
            old.label("old"),
            func.lead(old)
            .over(partition_by=ServiceChange.service_id, order_by=ServiceChange.id)
            .label("next_old"),
            current.label("current"),
        )
        .join(Service, Service.id == ServiceChange.service_id)
        .where(in_life, counted)
        .subquery()
    )
    changes = select(
        following.c.service_id,
        following.c.client_id,
        following.c.currency,
        following.c.bucket,
        type_coerce(
            func.coalesce(following.c.next_old, following.c.current) - following.c.old,
            MoneyType(),
        ).label("delta"),
        literal(0).label("buys"),
    )
    addon_units = _units(ServiceAddon.recurring_amount, Service.cycle, Service.product_id, scope)
    later_day = ServiceAddon.registration_date > Service.registration_date
    addon_day = case((later_day, ServiceAddon.registration_date), else_=Service.registration_date)
    addons = (
        select(*key, timeline.by_day(addon_day).label("bucket"), addon_units.label("delta"))
        .add_columns(literal(0).label("buys"))
        .join(ServiceAddon, ServiceAddon.service_id == Service.id)
        .where(counted, ServiceAddon.status.in_(RUNNING))
    )
    ended = Service.status.in_(ENDED)
    ends = select(
        *key,
        timeline.by_moment(Service.terminated_at).label("bucket"),
        type_coerce(literal(0) - current, MoneyType()).label("delta"),
        literal(0).label("buys"),
    ).where(counted, ended)
    addon_ends = (
        select(
            *key,
            timeline.by_moment(Service.terminated_at).label("bucket"),
            type_coerce(literal(0) - addon_units, MoneyType()).label("delta"),
            literal(0).label("buys"),
        )
        .join(ServiceAddon, ServiceAddon.service_id == Service.id)
        .where(counted, ended, ServiceAddon.status.in_(RUNNING))
    )
    parts = [starts, changes, addons, ends, addon_ends]
    if orders:
        # a service reopened for the same product keeps one row and its latest registration
        # date: its first life is seen through the order that started it
        first_order = (
            select(
                literal(None).label("service_id"),
                Order.client_id.label("client_id"),
                Order.currency.label("currency"),
                timeline.by_moment(func.min(Order.accepted_at)).label("bucket"),
                type_coerce(literal(0), MoneyType()).label("delta"),
                literal(1).label("buys"),
            )
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(
                Order.kind == OrderKind.NEW,
                Order.accepted_at.is_not(None),
                OrderItem.cycle.in_(RECURRING_CYCLES),
            )
            .group_by(Order.client_id, Order.currency)
        )
        if scope.currency:
            first_order = first_order.where(Order.currency == scope.currency)
        if scope.manager_id is not None:
            managed = select(Client.id).where(Client.manager_id == scope.manager_id)
            first_order = first_order.where(Order.client_id.in_(managed))
        parts.append(first_order)
    events = union_all(*parts).subquery()
    return select(events).where(events.c.bucket < len(timeline.days)).subquery()


def levels_by_month(timeline: Timeline, scope: Scope, key: str, purchases: bool = False) -> Any:
    """Per ``key`` (client or service), currency and bucket with an event: the delta of the
    bucket, the MRR after it (``level``) and the first bucket with a purchase (``first_buy``,
    clients only), a subquery."""
    deltas = _deltas(timeline, scope, orders=purchases and key == "client_id")
    grouped = (
        select(
            deltas.c[key].label("key"),
            deltas.c.currency,
            deltas.c.bucket,
            type_coerce(func.sum(deltas.c.delta), MoneyType()).label("delta"),
            func.max(deltas.c.buys).label("buys"),
        )
        .group_by(deltas.c[key], deltas.c.currency, deltas.c.bucket)
        .subquery()
    )
    partition = (grouped.c.key, grouped.c.currency)
    level = func.sum(grouped.c.delta).over(partition_by=partition, order_by=grouped.c.bucket)
    first_buy = func.min(case((grouped.c.buys > 0, grouped.c.bucket))).over(partition_by=partition)
    return select(
        grouped,
        type_coerce(level, MoneyType()).label("level"),
        first_buy.label("first_buy"),
    ).subquery()


@dataclass
class Flow:
    """What one bucket of one currency did: amounts in 72nds, counts of keys."""

    delta: Decimal = Decimal(0)
    new: Decimal = Decimal(0)
    expansion: Decimal = Decimal(0)
    contraction: Decimal = Decimal(0)
    churn: Decimal = Decimal(0)
    reactivation: Decimal = Decimal(0)
    new_keys: int = 0
    lost_keys: int = 0
    returned_keys: int = 0


def flows_by_month(
    timeline: Timeline, scope: Scope, key: str, returning: bool = True
) -> dict[tuple[int, str], Flow]:
    """Per (bucket, currency): the movements of the keys with an event in it (bucket 0: the
    opening MRR as ``delta`` and the paying keys as ``new_keys``). One query."""
    levels = levels_by_month(timeline, scope, key, purchases=returning)
    after = levels.c.level
    before = type_coerce(after - levels.c.delta, MoneyType())
    bucket = levels.c.bucket
    opening = bucket == 0
    gained = and_(~opening, before == 0, after > 0)
    kept = and_(~opening, before > 0, after > 0)
    lost = and_(~opening, before > 0, after == 0)
    came_back: ColumnElement[bool] = literal(False)
    if returning:
        came_back = and_(levels.c.first_buy.is_not(None), levels.c.first_buy < bucket)
    zero = literal(0)

    def total(condition: ColumnElement[bool], value: Any) -> Any:
        return type_coerce(func.sum(case((condition, value), else_=zero)), MoneyType())

    def count(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    query = select(
        bucket,
        levels.c.currency,
        type_coerce(func.sum(levels.c.delta), MoneyType()),
        total(and_(gained, ~came_back), after),
        total(and_(kept, after > before), after - before),
        total(and_(kept, after < before), before - after),
        total(lost, before),
        total(and_(gained, came_back), after),
        count(or_(and_(gained, ~came_back), and_(opening, after > 0))),
        count(lost),
        count(and_(gained, came_back)),
    ).group_by(bucket, levels.c.currency)
    flows = {}
    for index, currency, *figures in db.session.execute(query):
        amounts = [Decimal(value or 0) for value in figures[:6]]
        counts = [int(value or 0) for value in figures[6:]]
        flows[(int(index), currency)] = Flow(*amounts, *counts)
    return flows


def movements(
    first_month: date, months: int, scope: Scope = EVERYTHING, reactivations: bool = True
) -> list[Movements]:
    """Movements of ``months`` months from ``first_month`` per currency, oldest first, months
    after today left out; one aggregate query for the whole period. Without ``reactivations``
    a client coming back counts as new (cheaper: churn rates do not tell them apart)."""
    timeline = Timeline(first_month, months, business_today())
    flows = flows_by_month(timeline, scope, "client_id", returning=reactivations)
    currencies = sorted({currency for _bucket, currency in flows})
    result = []
    for currency in currencies:
        opening = flows.get((0, currency), Flow())
        units, clients = opening.delta, opening.new_keys
        for index, month in enumerate(timeline.months, start=1):
            flow = flows.get((index, currency), Flow())
            start_units, start_clients = units, clients
            units += flow.delta
            clients += flow.new_keys + flow.returned_keys - flow.lost_keys
            result.append(
                Movements(
                    month,
                    currency,
                    starting=to_money(start_units, currency),
                    new=to_money(flow.new, currency),
                    expansion=to_money(flow.expansion, currency),
                    contraction=to_money(flow.contraction, currency),
                    churn=to_money(flow.churn, currency),
                    reactivation=to_money(flow.reactivation, currency),
                    ending=to_money(units, currency),
                    arr=arr(units, currency),
                    clients_start=start_clients,
                    clients_end=clients,
                    new_clients=flow.new_keys,
                    churned_clients=flow.lost_keys,
                    reactivated_clients=flow.returned_keys,
                )
            )
    result.sort(key=lambda m: (m.month, m.currency))
    return result


# --- the report -----------------------------------------------------------------------------------

#: A report covers at most this many months (ten years).
MAX_MONTHS = 120


def _a_year_ago() -> date:
    return add_months(month_start(business_today()), -11)


class MonthlyFilters(ReportFilters):
    """The common filters, from the month a year ago by default; no product group (MRR is
    per service, and a service's product is what it was at each month's end)."""

    product_group = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "since" in self._fields and not self.since.raw_data:  # not given: a year back
            self.since.data = _a_year_ago()


def scope_of(filters: Mapping[str, Any]) -> Scope:
    from portal.catalog.currencies import default_currency

    return Scope(
        currency=filters.get("currency") or default_currency(),
        product_id=filters.get("product"),
        manager_id=filters.get("manager"),
    )


def months_of(filters: Mapping[str, Any], today: date) -> tuple[date, int]:
    """The first month and the number of months the filters' period covers, up to today."""
    first = month_start(filters.get("since") or _a_year_ago())
    last = month_start(min(filters.get("until") or today, today))
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return first, max(0, min(count, MAX_MONTHS))


def negative(amount: Decimal) -> Decimal:
    """``-amount``, never ``-0.00``."""
    return -amount if amount else amount


def by_month(items: Any, first: date, count: int) -> list[tuple[date, Any]]:
    """``(month, item or None)`` for every month of the period: a month with nothing running
    has no row in the database."""
    found = {item.month: item for item in items}
    return [(m, found.get(m)) for m in (add_months(first, i) for i in range(count))]


class MrrReport(Report):
    name = "mrr"
    label = _l("MRR and ARR")
    description = _l(
        "Monthly recurring revenue at each month's end from the services' recurring prices "
        "(annual / 12, quarterly / 3 ...), without one-off charges, setup fees, usage and tax, "
        "and what moved it: new clients, expansion, contraction, churn, reactivation."
    )
    filters = MonthlyFilters
    order = 30

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        today = business_today()
        scope = scope_of(filters)
        currency = scope.currency or ""
        first, count = months_of(filters, today)
        zero = Decimal("0.00")
        rows = []
        for month, item in by_month(movements(first, count, scope), first, count):
            if item is None:
                rows.append([month, zero, zero, zero, zero, zero, zero, zero, zero, 0, zero])
                continue
            rows.append(
                [
                    month,
                    item.starting,
                    item.new,
                    item.expansion,
                    negative(item.contraction),
                    negative(item.churn),
                    item.reactivation,
                    item.ending,
                    item.arr,
                    item.clients_end,
                    item.net,
                ]
            )
        columns = [
            Column(_("Month"), "month"),
            Column(_("MRR at the start"), "money"),
            Column(_("New"), "money"),
            Column(_("Expansion"), "money"),
            Column(_("Contraction"), "money"),
            Column(_("Churn"), "money"),
            Column(_("Reactivation"), "money"),
            Column(_("MRR at the end"), "money"),
            Column(_("ARR"), "money"),
            Column(_("Paying clients"), "number"),
            Column(_("Net change"), "money"),
        ]
        totals = [
            None,
            rows[0][1] if rows else None,
            *(sum((r[i] for r in rows), zero) for i in range(2, 7)),
            rows[-1][7] if rows else None,
            rows[-1][8] if rows else None,
            rows[-1][9] if rows else None,
            sum((r[10] for r in rows), zero),
        ]
        labels = [short_month_label(r[0]) for r in rows]
        charts = []
        if rows:
            charts = [
                Chart(
                    "stacked",
                    labels,
                    [
                        (_("New"), [r[2] for r in rows]),
                        (_("Expansion"), [r[3] for r in rows]),
                        (_("Reactivation"), [r[6] for r in rows]),
                        (_("Contraction"), [r[4] for r in rows]),
                        (_("Churn"), [r[5] for r in rows]),
                    ],
                    title=_("MRR movements, %(currency)s", currency=currency),
                ),
                Chart(
                    "line",
                    labels,
                    [(_("MRR at the end"), [r[7] for r in rows])],
                    title=_("MRR, %(currency)s", currency=currency),
                ),
            ]
        return ReportResult(
            columns,
            rows,
            charts[0] if charts else None,
            totals,
            currency,
            charts=charts[1:],
        )
