"""Jinja filters that format money and dates for the current locale.

Money is rounded ROUND_HALF_UP to the currency's minor units *before* Babel sees it: Babel rounds
half-even, and a formatter must never be the thing that rounds an amount.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency
from flask import Flask
from flask_babel import format_date, format_datetime, get_locale

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
    return format_currency(amount, currency, locale=locale)


def plain_number(value: Decimal | None) -> str:
    """A stored price, rate or quantity as staff typed it: 4800.0000 -> "4800", 20 not 2E+1."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


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
