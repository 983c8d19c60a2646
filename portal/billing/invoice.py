"""Invoice drafts: lines and totals as plain frozen data for the services layer to persist.

Each line is rounded once: ``quantity x unit price x coefficient x days / total days`` goes to
the currency's minor units in a single step, then the line's tax is rounded once. A promo code is
a negative line of its own under the line it discounts, as on a real invoice::

    БИТ:Отель 8. ПРОФ (01.02.2019 - 31.07.2019)          13 380.00
    Промо-код: Скидка для референсных клиентов 5%          -669.00

For every line ``amount == list_amount - discount`` and ``net + tax == total``; the draft's
subtotal, discount, tax and total are the sums of the lines' net, discount, tax and total, so
the totals equal the lines exactly and nothing is rounded twice.

Every line adds up as printed: ``quantity x unit_price == list_amount``. A prorated line
(``full_period``) carries the prorated price, not the full one, and says which days it bills::

    Пакет дискового пространства 5ГБ (08.01.2026 - 30.06.2026, 174 из 181 дн.)
        1 x 346,08 = 346,08

When the prorated price of one unit is not a whole number of kopecks (3 units: 1 038,23 / 3),
the line is one unit of its whole amount and a sub-line keeps the quantity and the full price
(``3 × 360,00 за полный период``), so that nothing printed is rounded twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from babel.numbers import format_decimal

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
    minor_units,
    round_money,
    scale,
)
from portal.billing.periods import Period
from portal.billing.proration import proration_days
from portal.billing.tax import NO_TAX, LineTax, apply_tax

PROMO_LABEL = "Промо-код: {description}"
#: The sub-line of a prorated line printed as one unit (see the module docstring).
PRORATED_UNITS_DETAIL = "{quantity} × {price} за полный период"


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
    (a co-termed add-on: ``period`` from the purchase to the main service's period end); the
    line then shows the prorated price and the days (module docstring).
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
    shown_units, shown_price, sub_lines = units, price, tuple(details)
    label = "" if period is None else f" {period.label()}"
    if days != total:
        assert period is not None  # a full period with nothing cut off has days == total
        label = f" {period.label(days, total)}"
        shown_units, shown_price, extra = _prorated_layout(units, price, list_amount, currency)
        sub_lines += extra
    return InvoiceLine(
        kind=LineKind.CHARGE,
        description=f"{description}{label}",
        currency=currency,
        quantity=shown_units,
        unit_price=shown_price,
        list_amount=list_amount,
        discount=list_amount - amount,
        amount=amount,
        line_tax=line_tax,
        net=taxed.net,
        tax=taxed.tax,
        total=taxed.total,
        component=component,
        period=period,
        details=sub_lines,
    )


def _prorated_layout(
    units: Decimal, price: Decimal, list_amount: Decimal, currency: str
) -> tuple[Decimal, Decimal, tuple[str, ...]]:
    """Quantity, unit price and extra sub-lines of a prorated line, so that quantity x unit
    price is exactly its (prorated) list amount: the prorated price per unit when it is a whole
    number of minor units, else one unit of the whole amount (module docstring)."""
    if units:
        per_unit = MONEY_CONTEXT.divide(list_amount, units)
        rounded = round_money(per_unit, currency)
        if rounded == per_unit:
            return units, rounded, ()
    detail = PRORATED_UNITS_DETAIL.format(
        quantity=format_decimal(units, locale="ru"), price=_ru_price(price, currency)
    )
    return ONE, list_amount, (detail,)


def _ru_price(price: Decimal, currency: str) -> str:
    """``1 080,00``: a price as Russian documents print it (minor units, up to 4 places)."""
    places = minor_units(currency)
    pattern = "#,##0." + "0" * places + "#" * max(0, 4 - places)
    return format_decimal(price, format=pattern, locale="ru")


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
