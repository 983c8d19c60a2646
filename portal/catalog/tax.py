"""Which tax applies to a line: the effective-dated rates staff keep in Settings, the client's
exemption, the client's own tax rules (``portal.catalog.client_rules``), and a plugin's
``resolve_tax_rate`` decision hook — resolved by ``portal.billing``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from portal import billing
from portal.accounts.models import Client
from portal.catalog.client_rules import client_tax_rates
from portal.platform import runtime_settings


class TaxSettingsError(ValueError):
    pass


def _rate(row: Mapping[str, Any]) -> billing.TaxRate:
    percent = Decimal(str(row["percent"]))
    if not Decimal(0) <= percent <= Decimal(100):
        raise ValueError(percent)
    return billing.TaxRate(
        percent,
        valid_from=date.fromisoformat(row["valid_from"]) if row.get("valid_from") else None,
        valid_to=date.fromisoformat(row["valid_to"]) if row.get("valid_to") else None,
        product_types=frozenset(row.get("product_types", ())),
        name=row.get("name", ""),
    )


def tax_rates() -> tuple[billing.TaxRate, ...]:
    """The rates from Settings, or Russian VAT (20 % until 2025-12-31, 22 % from 2026-01-01)."""
    rows = runtime_settings.get("tax_rates")
    return billing.RUSSIAN_VAT if rows is None else tuple(_rate(row) for row in rows)


def save_tax_rates(rows: Sequence[Mapping[str, Any]]) -> None:
    """Validate and store; periods of rates for the same product types must not overlap."""
    parsed = []
    for row in rows:
        try:
            parsed.append(_rate(row))
        except (ValueError, ArithmeticError, billing.BillingError):
            raise TaxSettingsError(
                _(
                    "Check the rate %(percent)s: a percent from 0 to 100 and dates YYYY-MM-DD.",
                    percent=row.get("percent"),
                )
            ) from None
    for n, first in enumerate(parsed):
        for second in parsed[n + 1 :]:
            same_scope = first.product_types == second.product_types
            starts_before = (first.valid_from or date.min) <= (second.valid_to or date.max)
            ends_after = (first.valid_to or date.max) >= (second.valid_from or date.min)
            if same_scope and starts_before and ends_after:
                raise TaxSettingsError(
                    _("Two rates cover the same dates; close one before the other starts.")
                )
    runtime_settings.put(
        "tax_rates",
        [
            {
                "percent": str(rate.percent),
                "valid_from": rate.valid_from.isoformat() if rate.valid_from else None,
                "valid_to": rate.valid_to.isoformat() if rate.valid_to else None,
                "product_types": sorted(rate.product_types),
                "name": rate.name,
            }
            for rate in parsed
        ],
    )


def line_tax(
    client: Client,
    *,
    tax_date: date,
    product_type: str | None = None,
    inclusive: bool = False,
    product_id: int | None = None,
    client_rules: Iterable[billing.TaxRate] | None = None,
) -> billing.LineTax:
    """The tax of one line for ``client`` on ``tax_date``; plugins may decide first.

    ``client_rules`` are the client's tax rules when the caller has loaded them already;
    by default they are read for ``client``.
    """
    from portal.core.app_state import plugins

    if client_rules is None:
        client_rules = client_tax_rates(client.id)

    context = billing.TaxContext(
        tax_date=tax_date,
        product_type=product_type,
        tax_exempt=client.tax_exempt,
        client=client.id,
        product=product_id,
        country=client.country,
    )

    def override(ctx: billing.TaxContext) -> Decimal | None:
        return plugins().hook.resolve_tax_rate(context=ctx)

    percent = billing.resolve_tax_rate(
        context, tax_rates(), client_rules=client_rules, override=override
    )
    return billing.LineTax(percent, inclusive=inclusive)
