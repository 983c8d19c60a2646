"""Jinja filters that format money and dates for the current locale.

Money is rounded ROUND_HALF_UP to the currency's minor units *before* Babel sees it: Babel rounds
half-even, and a formatter must never be the thing that rounds an amount.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from babel import Locale
from babel.dates import DateTimePattern, get_date_format, get_datetime_format, get_time_format
from babel.numbers import format_currency, format_decimal
from flask import Flask
from flask_babel import get_locale, to_user_timezone
from flask_babel import gettext as _

from portal.billing import round_money

K = TypeVar("K")


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
    """A date (or a moment, in the user's time zone) in the locale's short form: "04.12.2026",
    "12/4/26". A list formats two dates a row, so the Babel patterns are parsed once per locale
    (:func:`_short_patterns`) and the text of a day and of a time of day is remembered (lists
    repeat them), where ``flask_babel.format_date`` looked the format up and rebuilt the
    formatter at every call (docs/performance.md)."""
    if value is None:
        return ""
    locale = str(get_locale())
    if isinstance(value, datetime):
        moment = to_user_timezone(value)
        loc, _day, pattern, time_pattern = _short_patterns(locale)
        if _ZONE_FIELDS.intersection(time_pattern.pattern):  # no locale of ours; kept correct
            shown = time_pattern.apply(moment, loc)
        else:  # a list's moments share their days and minutes: both texts are remembered
            shown = _short_time(moment.time().replace(microsecond=0), locale)
        return pattern.replace("{0}", shown).replace("{1}", _short_day(moment.date(), locale))
    return _short_day(value, locale)


#: Pattern letters that need the moment's time zone, which a plain time of day has not.
_ZONE_FIELDS = frozenset("zZvVOXx")


@lru_cache(maxsize=32)
def _short_patterns(locale: str) -> tuple[Locale, DateTimePattern, str, DateTimePattern]:
    """The locale and its parsed short date pattern, datetime template and time pattern."""
    loc = Locale.parse(locale)
    return (
        loc,
        get_date_format("short", loc),
        get_datetime_format("short", loc).replace("'", ""),
        get_time_format("short", loc),
    )


@lru_cache(maxsize=8192)
def _short_day(value: date, locale: str) -> str:
    loc, day, _pattern, _time = _short_patterns(locale)
    return day.apply(value, loc)


@lru_cache(maxsize=8192)
def _short_time(value: time, locale: str) -> str:
    loc, _day, _pattern, time_pattern = _short_patterns(locale)
    return time_pattern.apply(value, loc)


def labels_once(labels: Mapping[K, object]) -> dict[K, str]:
    """Lazy labels (an enum's names) translated once for a page: a table of 50 rows looked
    ``labels[row.status]`` up 50 times, each a gettext call on a lazy string."""
    return {key: str(label) for key, label in labels.items()}


def count_number(value: int) -> str:
    """A count in the locale's digits ("10 000", "10,000"), e.g. a list's capped total."""
    return format_decimal(value, locale=str(get_locale()))


def init_formatting(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(short_date, "short_date")
    app.add_template_filter(plain_number, "plain_number")
    app.add_template_filter(audit_value, "audit_value")
    app.add_template_filter(count_number, "count_number")
