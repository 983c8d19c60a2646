"""Prices: per-cycle prices and setup fees, configurable options, personal overrides.

A :class:`PriceList` holds a price and a setup fee per billing cycle in one currency; products,
quantity options (per unit) and dropdown choices all use it. A :class:`ProductPrice` is a product
as a client configured it: its base prices plus the selected options. Prices carry up to 4
decimal places and are exact; rounding happens once, on the invoice line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from portal.billing.cycles import Cycle
from portal.billing.errors import (
    CurrencyMismatch,
    FreeCycleWithPrice,
    InvalidQuantity,
    PriceNotAvailable,
    QuantityAboveMaximum,
    QuantityBelowMinimum,
    QuantityStep,
    UnknownChoice,
)
from portal.billing.money import ZERO, check_price, quantum


@dataclass(frozen=True, slots=True)
class CyclePrice:
    """The price of one period of a cycle, and the one-time setup fee of ordering it."""

    price: Decimal
    setup_fee: Decimal = ZERO

    def __post_init__(self) -> None:
        object.__setattr__(self, "price", check_price(self.price))
        object.__setattr__(self, "setup_fee", check_price(self.setup_fee, "Setup fee"))


@dataclass(frozen=True, slots=True)
class PriceList:
    """Prices keyed by :class:`Cycle`; a cycle that is missing is not sold.

    Values may be given as a :class:`CyclePrice` or as a bare price without a setup fee.
    """

    currency: str
    prices: Mapping[Cycle, CyclePrice]

    def __post_init__(self) -> None:
        quantum(self.currency)
        prices: dict[Cycle, CyclePrice] = {}
        for key, value in self.prices.items():
            cycle = Cycle.parse(key)
            entry = value if isinstance(value, CyclePrice) else CyclePrice(value)
            if cycle is Cycle.FREE and (entry.price or entry.setup_fee):
                raise FreeCycleWithPrice(value=entry.price or entry.setup_fee)
            prices[cycle] = entry
        object.__setattr__(self, "prices", MappingProxyType(prices))

    def entry(self, cycle: Cycle) -> CyclePrice:
        try:
            return self.prices[cycle]
        except KeyError:
            raise PriceNotAvailable(cycle=cycle) from None

    def price(self, cycle: Cycle) -> Decimal:
        return self.entry(cycle).price

    def setup_fee(self, cycle: Cycle) -> Decimal:
        return self.entry(cycle).setup_fee

    def require_currency(self, currency: str) -> None:
        """Refuse to mix this list with amounts in another currency."""
        if currency != self.currency:
            raise CurrencyMismatch(expected=currency, actual=self.currency)

    def times(self, quantity: int) -> PriceList:
        """Prices of ``quantity`` units when this list is per unit."""
        return PriceList(
            self.currency,
            {
                cycle: CyclePrice(entry.price * quantity, entry.setup_fee * quantity)
                for cycle, entry in self.prices.items()
            },
        )

    def with_overrides(self, personal: PriceList) -> PriceList:
        """This list with a client's personal prices replacing it cycle by cycle."""
        personal.require_currency(self.currency)
        return PriceList(self.currency, {**self.prices, **personal.prices})


@dataclass(frozen=True, slots=True)
class Selection:
    """A configured option: its invoice sub-line and what it adds to each cycle's price."""

    description: str
    prices: PriceList


@dataclass(frozen=True, slots=True)
class QuantityOption:
    """Units sold by the piece: users, 5 GB disk packages. ``prices`` are per unit.

    A client picks the final quantity (15 GB is 3 packages), never the increase.
    """

    name: str
    unit: str
    prices: PriceList
    minimum: int = 0
    maximum: int | None = None
    step: int = 1

    def select(self, quantity: int) -> Selection:
        """``quantity`` units, checked against the bounds and the step."""
        if quantity.__class__ is not int:
            raise InvalidQuantity(option=self.name, quantity=quantity)
        if quantity < self.minimum:
            raise QuantityBelowMinimum(option=self.name, quantity=quantity, minimum=self.minimum)
        if self.maximum is not None and quantity > self.maximum:
            raise QuantityAboveMaximum(option=self.name, quantity=quantity, maximum=self.maximum)
        if (quantity - self.minimum) % self.step:
            raise QuantityStep(
                option=self.name, quantity=quantity, minimum=self.minimum, step=self.step
            )
        return Selection(f"{self.name}: {quantity} x {self.unit}", self.prices.times(quantity))


@dataclass(frozen=True, slots=True)
class DropdownOption:
    """One choice out of several, each with its own per-cycle prices."""

    name: str
    choices: Mapping[str, PriceList]

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", MappingProxyType(dict(self.choices)))

    def select(self, choice: str) -> Selection:
        try:
            prices = self.choices[choice]
        except (KeyError, TypeError):
            raise UnknownChoice(option=self.name, choice=choice) from None
        return Selection(f"{self.name}: {choice}", prices)


@dataclass(frozen=True, slots=True)
class ProductPrice:
    """A product as configured by a client: base prices plus selected options.

    ``base`` should already carry the client's personal prices (:meth:`PriceList.with_overrides`).
    """

    base: PriceList
    selections: tuple[Selection, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "selections", tuple(self.selections))
        for selection in self.selections:
            selection.prices.require_currency(self.base.currency)

    @property
    def currency(self) -> str:
        return self.base.currency

    def price(self, cycle: Cycle) -> Decimal:
        """Recurring price of one period of ``cycle``, options included (exact, not rounded)."""
        return sum((s.prices.price(cycle) for s in self.selections), self.base.price(cycle))

    def setup_fee(self, cycle: Cycle) -> Decimal:
        return sum((s.prices.setup_fee(cycle) for s in self.selections), self.base.setup_fee(cycle))

    def details(self) -> tuple[str, ...]:
        """Sub-lines for the invoice, one per selected option."""
        return tuple(selection.description for selection in self.selections)
