"""Taxes: effective-dated rates, exemptions, client rules, a plugin override; tax per line.

The rate is chosen by the invoice's *tax date* (the services layer decides which date that is),
in this order:

1. ``override(context)``, when given, has the last word: the app passes a pluggy
   ``firstresult`` hook here, so a plugin can return a rate for the contexts it knows (a
   reverse-charged foreign client, a special regime) and ``None`` for the others;
2. a tax-exempt client pays no tax ("без НДС");
3. the client's own rules, the first whose date window and product types match;
4. the general rates (Russian VAT by default), the first that matches.

Rates are percentages (22 is 22 %). Prices are tax-inclusive or tax-exclusive per product; the tax
is computed and rounded on each line, and an invoice's tax is the sum of its lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.billing.errors import InvalidAmount, InvalidTaxRate, NoTaxRate
from portal.billing.money import HUNDRED, ZERO, check_amount, check_price, scale


def check_tax_percent(value: Decimal | int) -> Decimal:
    """A tax rate in percent: non-negative, at most 4 decimal places; floats are refused."""
    try:
        return check_price(value, "Tax rate")
    except InvalidAmount:
        raise InvalidTaxRate(value=value) from None


@dataclass(frozen=True, slots=True)
class TaxRate:
    """A rate valid from ``valid_from`` to ``valid_to`` (inclusive; None is open-ended).

    ``product_types`` limits it to some types of product (empty: all), as client rules need.
    """

    percent: Decimal
    valid_from: date | None = None
    valid_to: date | None = None
    product_types: frozenset[str] = frozenset()
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "percent", check_tax_percent(self.percent))
        object.__setattr__(self, "product_types", frozenset(self.product_types))

    def applies(self, tax_date: date, product_type: str | None) -> bool:
        return (
            (self.valid_from is None or self.valid_from <= tax_date)
            and (self.valid_to is None or tax_date <= self.valid_to)
            and (not self.product_types or product_type in self.product_types)
        )


#: Russian VAT: 18 % until 2018, 20 % from 2019-01-01 to 2025-12-31, 22 % from 2026-01-01.
RUSSIAN_VAT: tuple[TaxRate, ...] = (
    TaxRate(Decimal(18), valid_to=date(2018, 12, 31), name="НДС 18%"),
    TaxRate(Decimal(20), date(2019, 1, 1), date(2025, 12, 31), name="НДС 20%"),
    TaxRate(Decimal(22), date(2026, 1, 1), name="НДС 22%"),
)


@dataclass(frozen=True, slots=True)
class TaxContext:
    """What a rate depends on; also what a plugin's override sees."""

    tax_date: date
    product_type: str | None = None
    tax_exempt: bool = False
    client: int | str | None = None
    product: int | str | None = None
    country: str | None = None


TaxOverride = Callable[[TaxContext], Decimal | None]


def resolve_tax_rate(
    context: TaxContext,
    rates: Iterable[TaxRate] = RUSSIAN_VAT,
    *,
    client_rules: Iterable[TaxRate] = (),
    override: TaxOverride | None = None,
) -> Decimal:
    """The tax rate in percent for ``context`` (see the module docstring for the order)."""
    if override is not None:
        decided = override(context)
        if decided is not None:
            return check_tax_percent(decided)
    if context.tax_exempt:
        return ZERO
    for rate in (*client_rules, *rates):
        if rate.applies(context.tax_date, context.product_type):
            return rate.percent
    raise NoTaxRate(date=context.tax_date)


@dataclass(frozen=True, slots=True)
class LineTax:
    """How a line is taxed: the rate and whether its prices already include the tax."""

    percent: Decimal = ZERO
    inclusive: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "percent", check_tax_percent(self.percent))


NO_TAX = LineTax()


@dataclass(frozen=True, slots=True)
class TaxedAmount:
    """An amount split into its part without tax and the tax: ``net + tax == total``."""

    net: Decimal
    tax: Decimal
    total: Decimal


def apply_tax(amount: Decimal, line_tax: LineTax, currency: str) -> TaxedAmount:
    """Split or add the tax of one line, rounding the tax once, half up.

    Inclusive: ``tax = amount x p / (100 + p)`` is inside ``amount``. Exclusive:
    ``tax = amount x p / 100`` is added to it.
    """
    amount = check_amount(amount)
    percent = line_tax.percent
    if line_tax.inclusive:
        tax = scale(amount, percent, HUNDRED + percent, currency)
        return TaxedAmount(amount - tax, tax, amount)
    tax = scale(amount, percent, HUNDRED, currency)
    return TaxedAmount(amount, tax, amount + tax)
