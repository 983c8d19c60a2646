"""What a document prints for its lines: each line's price, amount, net, VAT and gross, and the
document's totals, in one consistent basis.

A line's price either includes VAT or not (per product, or as staff typed a manual line); the
line's VAT was computed and rounded once, to kopecks, when the line was made
(:func:`portal.billing.apply_tax`), and the document's VAT is the sum of the lines' VAT — the
Russian practice of VAT per line (the way 1C and a счёт-фактура count it), never a VAT recomputed
on the document's total. This module only lays those figures out; it never rounds anything.

The basis of a document follows from its lines (see ``docs/documents.md``):

- **inclusive**: every taxed line's price includes VAT. Prices and amounts are printed with VAT,
  "Итого" is the sum of the gross amounts and the VAT is printed as "В том числе НДС 22 %";
- **exclusive**: no taxed line's price includes VAT (and documents without VAT at all). Prices
  and amounts are printed without VAT, "Итого" is the net sum, "НДС 22 %" is added to it;
- **mixed**: both kinds. Every line gets the columns of a счёт-фактура — its price and amount as
  sold (marked when they include VAT), then net, VAT rate, VAT and gross — and the totals are
  "Итого без НДС", the VAT per rate and "Всего с НДС". Converting a line's price to the other
  basis would need a price with endless decimals (3 × 33,33 + 22 % VAT is 121,99, and 121,99 / 3
  is not a price), so ``quantity × price = amount`` holds on every line in every basis only if
  each line keeps its own price.

A line without VAT (``tax_percent`` None, "Без НДС") or at 0 % has ``net == gross`` and fits
every basis; it is never "priced with VAT".

Always ``Σ net + Σ VAT == Σ gross`` (the invoice total), line by line and in total.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from portal.billing.errors import InconsistentLine
from portal.billing.invoice import InvoiceLine
from portal.billing.money import ZERO, check_minor_units, quantum, round_money


class PriceBasis(StrEnum):
    """How a document prints its prices: see the module docstring."""

    INCLUSIVE = "inclusive"
    EXCLUSIVE = "exclusive"
    MIXED = "mixed"


class TaxedLine(Protocol):
    """What a line must tell: the stored invoice line (``portal.invoicing``) has these columns,
    :class:`LineAmounts` is the plain-value version."""

    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def tax_percent(self) -> Decimal | None: ...
    @property
    def tax_inclusive(self) -> bool: ...
    @property
    def net(self) -> Decimal: ...
    @property
    def tax(self) -> Decimal: ...
    @property
    def total(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """A line's figures as plain values; ``amount`` is in the line's own price basis."""

    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax_percent: Decimal | None
    tax_inclusive: bool
    net: Decimal
    tax: Decimal
    total: Decimal

    @classmethod
    def of(cls, line: InvoiceLine) -> LineAmounts:
        """The figures of a draft line made by :func:`portal.billing.charge_line`."""
        return cls(
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            tax_percent=line.line_tax.percent or None,
            tax_inclusive=line.line_tax.inclusive,
            net=line.net,
            tax=line.tax,
            total=line.total,
        )


@dataclass(frozen=True, slots=True)
class PrintedLine:
    """One row as printed. ``unit_price`` and ``amount`` are the line's price and amount as sold
    (``quantity × unit_price`` makes ``amount``): with VAT when ``price_includes_tax``, so
    ``amount`` is ``gross`` then and ``net`` otherwise."""

    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    price_includes_tax: bool
    tax_percent: Decimal | None
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True, slots=True)
class DocumentFigures:
    """The lines and totals of one document; ``gross`` is the invoice total.

    ``printed_sum`` is the "Итого" row: the sum of the amounts as printed in the basis (gross for
    an inclusive document, net otherwise). ``tax_by_rate`` is the VAT per rate, lowest rate
    first, for the VAT rows; lines without VAT are not in it.
    """

    currency: str
    basis: PriceBasis
    lines: tuple[PrintedLine, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal
    tax_by_rate: tuple[tuple[Decimal, Decimal], ...]

    @property
    def printed_sum(self) -> Decimal:
        return self.gross if self.basis is PriceBasis.INCLUSIVE else self.net

    def negated(self) -> DocumentFigures:
        """The same figures with the sign turned round: a credit note prints its negative lines
        as positive amounts of reduction. The negative factor of each line (its quantity or its
        price) is the one turned round, so ``quantity × price`` still gives the amount."""

        def turn(line: PrintedLine) -> PrintedLine:
            quantity, price = line.quantity, line.unit_price
            if quantity < 0:
                quantity = ZERO - quantity
            else:
                price = ZERO - price
            return PrintedLine(
                quantity=quantity,
                unit_price=price,
                amount=ZERO - line.amount,
                price_includes_tax=line.price_includes_tax,
                tax_percent=line.tax_percent,
                net=ZERO - line.net,
                tax=ZERO - line.tax,
                gross=ZERO - line.gross,
            )

        return dataclasses.replace(
            self,
            lines=tuple(turn(line) for line in self.lines),
            net=ZERO - self.net,
            tax=ZERO - self.tax,
            gross=ZERO - self.gross,
            tax_by_rate=tuple((rate, ZERO - tax) for rate, tax in self.tax_by_rate),
        )


def _taxed(line: TaxedLine) -> bool:
    """A line with a VAT rate above 0: only these have a price basis (net == gross otherwise)."""
    return bool(line.tax_percent)


def _check(number: int, line: TaxedLine) -> None:
    """The line's own arithmetic, as ``portal.billing`` made it; anything else is a bug that
    must not reach a legal document."""
    as_sold = line.total if line.tax_inclusive else line.net
    untaxed_with_tax = line.tax_percent is None and line.tax
    if line.net + line.tax != line.total or line.amount != as_sold or untaxed_with_tax:
        raise InconsistentLine(
            number=number, amount=line.amount, net=line.net, tax=line.tax, total=line.total
        )


def price_basis(lines: Iterable[TaxedLine]) -> PriceBasis:
    """Inclusive when every taxed line includes VAT, exclusive when none does (or nothing is
    taxed), mixed otherwise."""
    flags = {line.tax_inclusive for line in lines if _taxed(line)}
    if flags == {True}:
        return PriceBasis.INCLUSIVE
    if flags == {True, False}:
        return PriceBasis.MIXED
    return PriceBasis.EXCLUSIVE


def document_figures(lines: Iterable[TaxedLine], currency: str) -> DocumentFigures:
    """The printed figures of a document's ``lines`` (see the module docstring for the basis).

    Raises :class:`InconsistentLine` when a line's net, VAT and total do not add up.
    """
    items = tuple(lines)
    for number, line in enumerate(items, 1):
        _check(number, line)
    basis = price_basis(items)
    printed = []
    rates: dict[Decimal, Decimal] = {}
    cents = quantum(currency)

    def money(value: Decimal) -> Decimal:
        # exact already (refused otherwise); only the stored scale (1.2200) becomes 1.22
        return check_minor_units(value, currency).quantize(cents)

    for line in items:
        percent = line.tax_percent
        printed.append(
            PrintedLine(
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=money(line.amount),
                price_includes_tax=_taxed(line) and bool(line.tax_inclusive),
                tax_percent=percent,
                net=money(line.net),
                tax=money(line.tax),
                gross=money(line.total),
            )
        )
        if percent is not None:
            rates[percent] = rates.get(percent, ZERO) + money(line.tax)
    zero = round_money(ZERO, currency)
    return DocumentFigures(
        currency=currency,
        basis=basis,
        lines=tuple(printed),
        net=sum((line.net for line in printed), zero),
        tax=sum((line.tax for line in printed), zero),
        gross=sum((line.gross for line in printed), zero),
        tax_by_rate=tuple(sorted(rates.items())),
    )
