"""Money: ``Decimal`` amounts with an ISO 4217 currency code, rounded once, half up.

Amounts are plain ``Decimal`` values next to a currency code rather than a wrapper class: the
services layer stores and sums them as they are, and the precision of an amount on a document is a
property of the currency (``RUB`` 2 places, ``JPY`` none), looked up in Babel's CLDR data.

Products, quotients and roundings go through :data:`MONEY_CONTEXT`, so a caller's decimal
context (a low precision, another rounding mode) cannot change a line's rounding; sums of amounts
are exact at Python's default precision of 28 digits. Floats are refused everywhere: ``0.1`` as a
float is not one tenth, and a float that slipped in would make two equal invoices differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction

from babel.numbers import get_currency_precision, is_currency

from portal.billing.errors import (
    AmountPrecision,
    CoefficientPrecision,
    FloatNotAllowed,
    InvalidAmount,
    InvalidCoefficient,
    InvalidWeights,
    NegativeCoefficient,
    NegativePrice,
    PricePrecision,
    UnknownCurrency,
)

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

#: Unit prices, rates and discount coefficients carry at most this many decimal places.
PRICE_PLACES = 4
_PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_PLACES)

#: Precision far above any amount we handle, so that products and quotients are exact until the
#: single rounding of a line (see :func:`scale`).
MONEY_CONTEXT = Context(
    prec=50, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow]
)

_QUANTA: dict[str, Decimal] = {}


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency`` on a document: ``Decimal('0.01')`` for RUB.

    Cached: proration calls it once per line and Babel's lookup is slow.
    """
    try:
        return _QUANTA[currency]
    except (KeyError, TypeError):
        pass
    code = currency.upper() if isinstance(currency, str) else ""
    if not is_currency(code):
        raise UnknownCurrency(currency=currency)
    _QUANTA[currency] = value = Decimal(1).scaleb(-get_currency_precision(code))
    return value


def minor_units(currency: str) -> int:
    """Number of decimal places of ``currency`` (RUB 2, JPY 0, BHD 3)."""
    return -quantum(currency).as_tuple().exponent


def check_amount(value: Decimal | int, field: str = "Amount") -> Decimal:
    """Return ``value`` as a finite ``Decimal``; refuse floats and anything that is not a number.

    ``int`` is accepted because it is exact (quantities, whole prices).
    """
    if value.__class__ is Decimal:
        if value.is_finite():
            return value
    elif isinstance(value, float):
        raise FloatNotAllowed(field=field, value=value)
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        number = Decimal(value)
        if number.is_finite():
            return number
    raise InvalidAmount(field=field, value=value)


def _has_places(value: Decimal, places: int) -> bool:
    """Whether ``value`` has no non-zero digit beyond ``places`` decimals (0.12340 has 4)."""
    if value.as_tuple().exponent >= -places:
        return True
    quantized = value.quantize(Decimal(1).scaleb(-places), context=MONEY_CONTEXT)
    return quantized == value


def check_price(value: Decimal | int, field: str = "Price") -> Decimal:
    """A unit price, fee or rate: non-negative, at most 4 decimal places."""
    price = check_amount(value, field)
    if price < ZERO:
        raise NegativePrice(field=field, value=price)
    if not _has_places(price, PRICE_PLACES):
        raise PricePrecision(field=field, value=price)
    return price


def check_coefficient(value: Decimal | int) -> Decimal:
    """A discount coefficient: 0.9 is 10 % off, 0 free, 2 double; at most 4 decimal places."""
    try:
        coefficient = check_amount(value, "Discount coefficient")
    except InvalidAmount:
        raise InvalidCoefficient(value=value) from None
    if coefficient < ZERO:
        raise NegativeCoefficient(value=coefficient)
    if not _has_places(coefficient, PRICE_PLACES):
        raise CoefficientPrecision(value=coefficient)
    return coefficient


def _to_minor_units(value: Decimal, currency: str) -> Decimal:
    """The one rounding: half up to ``currency``'s minor units, and never ``-0.00``."""
    rounded = value.quantize(quantum(currency), ROUND_HALF_UP, MONEY_CONTEXT)
    return rounded if rounded or not rounded.is_signed() else rounded.copy_abs()


def round_money(amount: Decimal | int, currency: str) -> Decimal:
    """Round ``amount`` to the minor units of ``currency``, half up (Babel rounds half even).

    A negative amount rounds away from zero like its positive twin.
    """
    return _to_minor_units(check_amount(amount), currency)


def scale(
    amount: Decimal, numerator: Decimal | int, denominator: Decimal | int, currency: str
) -> Decimal:
    """``amount x numerator / denominator`` rounded once, half up, to ``currency``.

    The product is exact and the quotient is correct to 50 digits, so the one rounding sees the
    true value: a quotient that is not a terminating decimal can never sit on a half.
    ``amount`` must already be checked; this is the hot path of proration.
    """
    ctx = MONEY_CONTEXT
    return _to_minor_units(ctx.divide(ctx.multiply(amount, numerator), denominator), currency)


def check_minor_units(amount: Decimal | int, currency: str) -> Decimal:
    """``amount`` as a Decimal that is already a whole number of minor units of ``currency``."""
    value = check_amount(amount)
    if not _has_places(value, minor_units(currency)):
        raise AmountPrecision(value=value, currency=currency, places=minor_units(currency))
    return value


def allocate(
    total: Decimal | int, weights: Sequence[Decimal | int], currency: str
) -> tuple[Decimal, ...]:
    """Split ``total`` in proportion to ``weights`` so that the parts add up exactly to it.

    Largest remainder method: every part gets the whole minor units of its exact share, and the
    minor units left over go to the largest fractional remainders (the earlier part on a tie).
    Use it to spread an invoice amount over months or lines, where rounding each part on its own
    could lose or invent a kopeck.
    """
    value = check_minor_units(total, currency)
    shares = [Fraction(check_amount(weight, "Weight")) for weight in weights]
    weight_sum = sum(shares)
    if weight_sum <= 0 or any(share < 0 for share in shares):
        raise InvalidWeights(weights=list(weights))
    step = quantum(currency)
    units = int(Fraction(abs(value)) / Fraction(step))
    exact = [units * share / weight_sum for share in shares]
    parts = [int(share) for share in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (parts[i] - exact[i], i))
    for index in by_remainder[: units - sum(parts)]:
        parts[index] += 1
    sign = -1 if value < ZERO else 1
    exponent = step.as_tuple().exponent
    return tuple(Decimal(sign * part).scaleb(exponent, MONEY_CONTEXT) for part in parts)
