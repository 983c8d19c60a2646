"""Upgrades and downgrades: what a change of price, cycle or quantity costs today.

The client is credited the unused part of the old price and charged the new price for the same
remaining days; the difference is due now, or goes to the credit balance when negative. The day
of the change is billed to the new state. The next due date does not move, so add-ons stay
co-termed with the main service, except in the cases below.

- **Free -> paid**: there is no paid period to end with, so a new period of the new cycle starts
  on the change date and is charged in full; the next due date becomes its end.
- **Paid -> free**: the unused part is credited; a free service has no next due date.
- **To a longer cycle** (monthly -> annual): the new cycle's period starts where the current
  period started, keeping the anchor day (and month-end alignment); the client is credited the
  unused part of the old period and charged the new price for ``[change date, new end)``.
  The next due date moves to the new end. The client commits to more time, so this is safe.
- **To a shorter cycle** (annual -> monthly) mid-term is refused
  (:class:`~portal.billing.errors.ShorterCycleMidTerm`); it takes effect at renewal. Crediting
  the unused months at the annual (discounted) rate and going monthly would let the client pay
  the annual price per month for the months used without the annual commitment: less for the
  same time than any honest monthly client.
- **One-time** purchases have no remaining period and cannot be changed.

A change followed by the reverse change on the same day nets to zero exactly: both quotes
prorate the same two prices over the same days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.billing.cycles import Cycle, next_due, recurring_months
from portal.billing.daycount import DayCount
from portal.billing.errors import (
    DateOutsidePeriod,
    FreeCycleWithPrice,
    OneTimeNotChangeable,
    PeriodRequired,
    ShorterCycleMidTerm,
)
from portal.billing.money import ZERO, check_price, round_money, scale
from portal.billing.periods import Period
from portal.billing.proration import prorate, proration_days


@dataclass(frozen=True, slots=True)
class Terms:
    """What a service costs per period of its cycle: the price the client actually pays."""

    cycle: Cycle
    price: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "cycle", Cycle.parse(self.cycle))
        object.__setattr__(self, "price", check_price(self.price))
        if self.cycle is Cycle.FREE and self.price:
            raise FreeCycleWithPrice(value=self.price)


@dataclass(frozen=True, slots=True)
class ChangeQuote:
    """The preview a client confirms: both amounts, the days and the convention."""

    old: Terms
    new: Terms
    change_date: date
    day_count: DayCount
    credit: Decimal
    """Unused part of the old price, returned to the client."""
    charge: Decimal
    """The new price for ``charge_period``."""
    days_used: int
    days_remaining: int
    days_total: int
    """Days of the current period (of the new one for free -> paid): used + remaining = total."""
    charge_period: Period | None
    """What the charge covers: from the change date to the next due date; None if free."""
    next_due: date | None
    next_due_moves: bool

    @property
    def difference(self) -> Decimal:
        """Charge minus credit: positive is due now, negative goes to the credit balance."""
        return self.charge - self.credit

    @property
    def amount_due(self) -> Decimal:
        return max(self.difference, ZERO)

    @property
    def to_credit_balance(self) -> Decimal:
        return max(-self.difference, ZERO)


def quote_change(
    old: Terms,
    new: Terms,
    change_date: date,
    period: Period | None,
    day_count: DayCount,
    currency: str,
) -> ChangeQuote:
    """Quote a change from ``old`` to ``new`` terms on ``change_date``.

    ``period`` is the service's current paid period (None for a free service). Prices are per
    period of their own cycle and already include options and discounts; a quantity change is a
    change between two configured prices (``ProductPrice.price`` with the old and the new
    ``QuantityOption.select``).
    """
    if Cycle.ONE_TIME in (old.cycle, new.cycle):
        raise OneTimeNotChangeable()
    if old.cycle is Cycle.FREE:
        return _from_free(old, new, change_date, day_count, currency)
    if period is None:
        raise PeriodRequired(cycle=old.cycle)
    if change_date not in period:
        raise DateOutsidePeriod(date=change_date, start=period.start, end=period.end)
    remaining, total = proration_days(period.start, period.end, change_date, period.end, day_count)
    credit = scale(old.price, remaining, total, currency)
    end: date | None = period.end
    if new.cycle is Cycle.FREE:
        charge, end = round_money(ZERO, currency), None
    elif new.cycle is old.cycle:
        charge = scale(new.price, remaining, total, currency)
    elif recurring_months(new.cycle) < recurring_months(old.cycle):
        raise ShorterCycleMidTerm(old=old.cycle, new=new.cycle, end=period.end)
    else:
        end = next_due(period.start, new.cycle, anchor_day=period.anchor_day)
        charge = prorate(new.price, period.start, end, change_date, day_count, currency)
    return ChangeQuote(
        old=old,
        new=new,
        change_date=change_date,
        day_count=day_count,
        credit=credit,
        charge=charge,
        days_used=total - remaining,
        days_remaining=remaining,
        days_total=total,
        charge_period=None if end is None else Period(change_date, end),
        next_due=end,
        next_due_moves=end != period.end,
    )


def _from_free(
    old: Terms, new: Terms, change_date: date, day_count: DayCount, currency: str
) -> ChangeQuote:
    """Free -> paid starts a new full period on the change date; free -> free costs nothing."""
    new_period = None
    days = 0
    if new.cycle.is_recurring:
        new_period = Period(change_date, next_due(change_date, new.cycle))
        days = new_period.days(day_count)
    return ChangeQuote(
        old=old,
        new=new,
        change_date=change_date,
        day_count=day_count,
        credit=round_money(ZERO, currency),
        charge=round_money(new.price, currency),
        days_used=0,
        days_remaining=days,
        days_total=days,
        charge_period=new_period,
        next_due=None if new_period is None else new_period.end,
        next_due_moves=new_period is not None,
    )
