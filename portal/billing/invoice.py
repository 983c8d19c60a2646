"""Invoice drafts: lines and totals as plain frozen data for the services layer to persist.

Each line is rounded once: ``quantity x unit price x coefficient x days / total days`` goes to
the currency's minor units in a single step, then the line's tax is rounded once. A promo code is
a negative line of its own under the line it discounts, as on a real invoice::

    БИТ:Отель 8. ПРОФ (01.02.2019 - 31.07.2019)          13 380.00
    Промо-код: Скидка для референсных клиентов 5%          -669.00

For every line ``amount == list_amount - discount`` and ``net + tax == total``; the draft's
subtotal, discount, tax and total are the sums of the lines' net, discount, tax and total, so
the totals equal the lines exactly and nothing is rounded twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from portal.billing.daycount import DayCount
from portal.billing.discounts import Component, PromoCode
from portal.billing.errors import CurrencyMismatch, NegativePrice
from portal.billing.money import (
    MONEY_CONTEXT,
    ONE,
    ZERO,
    check_coefficient,
    check_minor_units,
    check_price,
    round_money,
    scale,
)
from portal.billing.periods import Period
from portal.billing.proration import proration_days
from portal.billing.tax import NO_TAX, LineTax, apply_tax

PROMO_LABEL = "Промо-код: {description}"


class LineKind(StrEnum):
    CHARGE = "charge"
    PROMO = "promo"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One invoice line, with the figures a document prints and a ledger needs.

    ``list_amount`` is the price before the personal discount (for the line's days), ``amount``
    after it, both in the product's price basis (tax included when ``line_tax.inclusive``);
    ``net``/``tax``/``total`` split the amount for the tax columns. ``details`` are sub-lines
    without amounts (``Количество пользователей: 5 x Пользователь``).
    """

    kind: LineKind
    description: str
    currency: str
    quantity: Decimal
    unit_price: Decimal
    list_amount: Decimal
    discount: Decimal
    amount: Decimal
    line_tax: LineTax
    net: Decimal
    tax: Decimal
    total: Decimal
    component: Component = Component.RECURRING
    period: Period | None = None
    details: tuple[str, ...] = ()


def charge_line(
    description: str,
    unit_price: Decimal,
    currency: str,
    *,
    quantity: Decimal | int = 1,
    period: Period | None = None,
    full_period: Period | None = None,
    day_count: DayCount = DayCount.ACTUAL,
    coefficient: Decimal | int = ONE,
    line_tax: LineTax = NO_TAX,
    component: Component = Component.RECURRING,
    details: Iterable[str] = (),
) -> InvoiceLine:
    """A line for ``quantity`` units at ``unit_price``, discounted by ``coefficient``.

    ``period`` is printed after the description. When ``full_period`` is given, ``unit_price``
    is the price of that whole period and the line is prorated to the part ``period`` covers
    (a co-termed add-on: ``period`` from the purchase to the main service's period end).
    """
    price = check_price(unit_price, "Unit price")
    units = check_price(quantity, "Quantity")
    factor = check_coefficient(coefficient)
    days = total = 1
    if full_period is not None:
        covered = full_period if period is None else period
        days, total = proration_days(
            full_period.start, full_period.end, covered.start, covered.end, day_count
        )
    listed = MONEY_CONTEXT.multiply(units, price)
    amount = scale(MONEY_CONTEXT.multiply(listed, factor), days, total, currency)
    list_amount = scale(listed, days, total, currency)
    taxed = apply_tax(amount, line_tax, currency)
    return InvoiceLine(
        kind=LineKind.CHARGE,
        description=description if period is None else f"{description} {period.label()}",
        currency=currency,
        quantity=units,
        unit_price=price,
        list_amount=list_amount,
        discount=list_amount - amount,
        amount=amount,
        line_tax=line_tax,
        net=taxed.net,
        tax=taxed.tax,
        total=taxed.total,
        component=component,
        period=period,
        details=tuple(details),
    )


def promo_line(promo: PromoCode, line: InvoiceLine, label: str = PROMO_LABEL) -> InvoiceLine:
    """The negative line a promo code adds under ``line``, taxed the way ``line`` is.

    ``label`` is formatted with the code's ``description`` and ``code``.
    """
    off = promo.discount(line.amount, line.currency)
    minus = ZERO - off  # not -off: no -0.00 on a document
    taxed = apply_tax(minus, line.line_tax, line.currency)
    return InvoiceLine(
        kind=LineKind.PROMO,
        description=label.format(description=promo.description, code=promo.code),
        currency=line.currency,
        quantity=ONE,
        unit_price=minus,
        list_amount=round_money(ZERO, line.currency),
        discount=off,
        amount=minus,
        line_tax=line.line_tax,
        net=taxed.net,
        tax=taxed.tax,
        total=taxed.total,
        component=line.component,
    )


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    """A draft's lines and totals; ``due = total - credit_applied``."""

    currency: str
    lines: tuple[InvoiceLine, ...]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    credit_applied: Decimal
    due: Decimal


def draft_invoice(
    lines: Iterable[InvoiceLine], currency: str, *, credit_available: Decimal | int = ZERO
) -> InvoiceDraft:
    """Total the lines and apply up to ``credit_available`` of the client's credit balance."""
    items = tuple(lines)
    for line in items:
        if line.currency != currency:
            raise CurrencyMismatch(expected=currency, actual=line.currency)
    credit = check_minor_units(credit_available, currency)
    if credit < ZERO:
        raise NegativePrice(field="Credit balance", value=credit)
    zero = round_money(ZERO, currency)
    total = sum((line.total for line in items), zero)
    applied = min(credit + zero, max(total, zero))
    return InvoiceDraft(
        currency=currency,
        lines=items,
        subtotal=sum((line.net for line in items), zero),
        discount=sum((line.discount for line in items), zero),
        tax=sum((line.tax for line in items), zero),
        total=total,
        credit_applied=applied,
        due=total - applied,
    )
