"""Jinja filters that format money and dates for the current locale.

Money is rounded ROUND_HALF_UP to the currency's minor units *before* Babel sees it: Babel rounds
half-even, and a formatter must never be the thing that rounds an amount.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_currency, format_decimal
from flask import Flask
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _

from portal.billing import round_money


def money(amount: Decimal | None, currency: str = "RUB") -> str:
    if amount is None:
        return ""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money() takes Decimal, not {type(amount).__name__}")
    return _formatted(round_money(amount, currency), currency, str(get_locale()))


@lru_cache(maxsize=4096)
def _formatted(amount: Decimal, currency: str, locale: str) -> str:
    """Babel's formatting is slow (it looks the currency up every time) and tariffs repeat: a
    billing run mails thousands of invoices for the same few totals."""
    text = format_currency(amount, currency, locale=locale)
    # A currency with no symbol in the locale prints its code, glued to the digits by the
    # locale's pattern ("RUB0.00" in English): a no-break space keeps it readable.
    return _GLUED_CODE.sub("\\1\u00a0", text)


_GLUED_CODE = re.compile(r"([A-Z]{3})(?=[-\d])")


def plain_number(value: Decimal | None) -> str:
    """A stored price, rate or quantity as staff typed it: 4800.0000 -> "4800", 20 not 2E+1."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def decimal_text(value: Decimal | None) -> str:
    """A decimal with no currency at hand (an audit value, a coefficient) in the locale's
    digits, every significant decimal kept and at least two shown: 1454.1600 -> "1 454,16",
    0.1111 -> "0,1111". Nothing is rounded."""
    if value is None:
        return ""
    return format_decimal(
        value.normalize(), format="#,##0.00", locale=str(get_locale()), decimal_quantization=False
    )


#: How a Decimal looks once stored as JSON text (audit entries keep amounts this way).
_DECIMAL_STRING = re.compile(r"-?\d+\.\d+")


def audit_value(value: Any) -> str:
    """An audit value for people: lists joined, booleans and None in words, and amounts
    (stored as text such as "1454.1600") in the locale's digits instead of a raw number."""
    if value is None:
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, list):
        return ", ".join(audit_value(item) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {audit_value(item)}" for key, item in value.items())
    if isinstance(value, Decimal) or (isinstance(value, str) and _DECIMAL_STRING.fullmatch(value)):
        return decimal_text(Decimal(value))
    return str(value)


def short_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "short")
    return format_date(value, "short")


def init_formatting(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(short_date, "short_date")
    app.add_template_filter(plain_number, "plain_number")
    app.add_template_filter(audit_value, "audit_value")
