"""Figures and dates as Russian documents print them: ``48 336,00``, ``23 ноября 2026 г.``

Written by hand rather than with Babel: Babel rounds half-even and would silently round an amount
that has too many decimals, while an amount on a document must already be rounded (half up, once,
by ``portal.billing``). These functions only pad with zeros; anything that would need rounding
raises :class:`DocumentError`.
"""

from __future__ import annotations

from datetime import date
from decimal import Context, Decimal

from portal.billing import minor_units
from portal.documents.errors import DocumentError

#: Exact for any figure a document holds: padding with zeros never rounds at this precision.
_EXACT = Context(prec=60)

_MONTHS_RU = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

THOUSANDS = " "
DECIMAL_MARK = ","


def check_decimal(value: object, field: str) -> Decimal:
    """``value`` as a finite Decimal; an ``int`` is exact and accepted, a float never is."""
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        raise TypeError(f"{field} must be a Decimal, not {type(value).__name__} {value!r}.")
    if not number.is_finite():
        raise DocumentError(f"{field} {number} is not a number.")
    return number


def _places(value: Decimal) -> int:
    """Decimal places that carry a non-zero digit: ``4800.0000`` has 0, ``0.1110`` has 3."""
    if not value:
        return 0
    exponent = value.normalize(_EXACT).as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked by the callers
    return max(0, -exponent)


def format_number(value: Decimal, places: int) -> str:
    """``value`` with exactly ``places`` decimals, space-grouped thousands, comma decimal mark.

    Refuses a value that has more significant decimals than ``places``: that would be rounding.
    """
    if _places(value) > places:
        raise DocumentError(f"{value} has more than {places} decimal places; round it first.")
    padded = value.quantize(Decimal(1).scaleb(-places), context=_EXACT)
    whole, _, fraction = f"{abs(padded):f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", THOUSANDS)
    sign = "-" if padded < 0 else ""
    return f"{sign}{grouped}{DECIMAL_MARK}{fraction}" if fraction else f"{sign}{grouped}"


def format_money(value: Decimal, currency: str) -> str:
    """An amount in the currency's minor units: ``48 336,00``; never rounds."""
    return format_number(check_decimal(value, "Amount"), minor_units(currency))


def format_price(value: Decimal, currency: str) -> str:
    """A unit price: the currency's places at least, more when the price has them (``0,1111``)."""
    number = check_decimal(value, "Price")
    return format_number(number, max(minor_units(currency), _places(number)))


def format_quantity(value: Decimal) -> str:
    """A quantity without trailing zeros: ``5``, ``1,5``."""
    number = check_decimal(value, "Quantity")
    return format_number(number, _places(number))


def format_percent(value: Decimal) -> str:
    """A tax rate: ``22``, ``12,5``."""
    return format_quantity(value)


def long_date(value: date, language: str) -> str:
    """``23 ноября 2026 г.`` / ``23 November 2026``: the date in a document's title."""
    if language == "ru":
        return f"{value.day} {_MONTHS_RU[value.month - 1]} {value.year} г."
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


def short_date(value: date) -> str:
    """``01.02.2019``: periods, due dates and the payment purpose, in both languages."""
    return f"{value:%d.%m.%Y}"
