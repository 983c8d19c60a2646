"""Jinja filters that format money and dates for the current locale.

Money is rounded ROUND_HALF_UP to the currency's minor units *before* Babel sees it: Babel rounds
half-even, and a formatter must never be the thing that rounds an amount.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision
from flask import Flask
from flask_babel import format_date, format_datetime, get_locale


def money(amount: Decimal | None, currency: str = "RUB") -> str:
    if amount is None:
        return ""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money() takes Decimal, not {type(amount).__name__}")
    exact = amount.quantize(Decimal(1).scaleb(-get_currency_precision(currency)), ROUND_HALF_UP)
    return format_currency(exact, currency, locale=str(get_locale()))


def short_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "short")
    return format_date(value, "short")


def init_formatting(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(short_date, "short_date")
