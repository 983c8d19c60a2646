"""tblcurrencies -> the portal's currencies: the default one, and the others with a rate.

The portal bills in its ``default_currency`` (configuration) and in other currencies that have
an exchange rate (Settings -> Currencies, stored as the ``currencies`` setting). WHMCS keeps a
rate per currency against its own base currency; the portal wants units of its default currency
per unit of the other, so the rate is WHMCS's rate of the portal's default divided by the
currency's own, rounded to 4 decimals, valid from the day of the import. A currency that
already has a rate in the portal keeps it. Every later step finds a WHMCS currency id's code
in ``ctx.lookups["currency_code"]``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import is_currency

from portal.accounts import audit
from portal.catalog.currencies import default_currency
from portal.core.extensions import db
from portal.imports.whmcs.context import ImportContext, Refused
from portal.platform.models import Setting

TABLE = "tblcurrencies"
SETTING = "currencies"


def codes(ctx: ImportContext) -> dict[int, str]:
    """WHMCS currency id -> ISO code (read once per run: a handful of rows)."""
    if "currency_code" not in ctx.lookups:
        ctx.lookups["currency_code"] = {
            row["id"]: str(row["code"]).strip().upper()
            for row in ctx.source.query("SELECT id, code FROM tblcurrencies")
        }
    return ctx.lookups["currency_code"]


def run(ctx: ImportContext) -> None:
    portal_default = default_currency()
    rows = ctx.source.query("SELECT * FROM tblcurrencies ORDER BY id")  # a handful of rows
    rates = {str(row["code"]).strip().upper(): Decimal(row["rate"]) for row in rows}
    codes(ctx)
    for row in rows:
        ctx.sync(
            TABLE,
            row,
            target_table="currency",
            write=lambda existing, row=row: _write(ctx, row, portal_default, rates),
            extra=[portal_default],
        )


def _write(ctx: ImportContext, row: dict, portal_default: str, rates: dict[str, Decimal]) -> int:
    code = str(row["code"]).strip().upper()
    if not is_currency(code):
        raise Refused(f"{code!r} is not an ISO 4217 currency code")
    if code == portal_default:
        return row["id"]
    stored = _stored_rates()
    if any(entry["code"] == code for entry in stored):
        return row["id"]  # staff's rate stays
    own, default = rates.get(code), rates.get(portal_default)
    if not own or not default or own <= 0 or default <= 0:
        raise Refused(
            f"no rate to {portal_default}: WHMCS has no rate for {portal_default}; "
            f"add the {code} rate in Settings -> Currencies"
        )
    rate = (default / own).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    if rate <= 0:
        raise Refused(f"the {code} rate rounds to zero at 4 decimals")
    entry = {"code": code, "rate": str(rate), "since": ctx.now.date().isoformat()}
    _store_rates([*stored, entry])
    return row["id"]


def _stored_rates() -> list[dict]:
    setting = db.session.get(Setting, SETTING)
    return list(setting.value or []) if setting is not None else []


def _store_rates(value: list[dict]) -> None:
    """As ``runtime_settings.put`` (audited), in the import's transaction: put commits."""
    setting = db.session.get(Setting, SETTING)
    before = None if setting is None else setting.value
    if setting is None:
        db.session.add(Setting(key=SETTING, value=value))
    else:
        setting.value = value
    audit.record(
        "setting.update",
        "setting",
        SETTING,
        before={SETTING: before},
        after={SETTING: value},
        system="whmcs import",
    )
