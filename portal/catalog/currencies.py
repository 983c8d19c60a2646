"""Currencies the provider bills in, and exchange rates to the default currency by date.

Prices are set per currency in the catalogue (no silent conversion at checkout); rates are for
reports and for staff who need a total across currencies. A rate applies from its date until the
next one, like the Central Bank's official rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import is_currency
from flask import current_app
from flask_babel import gettext as _

from portal import billing
from portal.billing.amounts import parse_amount
from portal.platform import runtime_settings


class CurrencyError(ValueError):
    pass


def default_currency() -> str:
    return current_app.config["PORTAL"]["default_currency"]


def _rows() -> list[dict[str, Any]]:
    return list(runtime_settings.get("currencies", []) or [])


def enabled_currencies() -> list[str]:
    """The default currency first, then the others with at least one rate."""
    others = sorted({row["code"] for row in _rows()} - {default_currency()})
    return [default_currency(), *others]


def exchange_rate(code: str, on: date) -> Decimal:
    """Units of the default currency for one unit of ``code`` on ``on``."""
    if code == default_currency():
        return Decimal(1)
    known = sorted(
        (date.fromisoformat(row["since"]), Decimal(row["rate"]))
        for row in _rows()
        if row["code"] == code and date.fromisoformat(row["since"]) <= on
    )
    if not known:
        raise CurrencyError(_("There is no %(code)s rate on %(date)s.", code=code, date=on))
    return known[-1][1]


def to_default(amount: Decimal, code: str, on: date) -> Decimal:
    """``amount`` of ``code`` in the default currency, rounded once."""
    return billing.round_money(amount * exchange_rate(code, on), default_currency())


def save_rates(rows: Sequence[Mapping[str, str]]) -> None:
    cleaned = []
    for row in rows:
        code = (row.get("code") or "").strip().upper()
        if not code:
            continue
        if not is_currency(code) or code == default_currency():
            raise CurrencyError(
                _("%(code)s is not a currency code other than the default one.", code=code)
            )
        try:
            rate = parse_amount(str(row.get("rate", "")), places=8, signed=True)
            since = date.fromisoformat(str(row.get("since", "")))
        except (InvalidOperation, ValueError):
            raise CurrencyError(
                _("Check the %(code)s row: a rate like 92.5012 and a date.", code=code)
            ) from None
        if rate <= 0 or rate != rate.quantize(Decimal("0.0001")):
            raise CurrencyError(
                _("The %(code)s rate must be above zero with at most 4 decimals.", code=code)
            )
        cleaned.append({"code": code, "rate": str(rate), "since": since.isoformat()})
    runtime_settings.put("currencies", cleaned)
