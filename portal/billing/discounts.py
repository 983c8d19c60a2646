"""Discounts: personal coefficients and promo codes, and which of them a line gets.

A personal discount is a coefficient on the tariff with up to 4 decimals (0.9 is 10 % off, 0 is
free, 2 is double), set separately for each :class:`Component` of a price, for one product or for
all of the client's products. A promo code is a percentage or a fixed amount, limited to products,
cycles and components, valid for the first invoice only or for every renewal, within dates and a
number of uses; on the invoice it is a negative line of its own.

Precedence (:func:`resolve_discount`): a client in voluntary suspension gets no discount at all;
otherwise a personal discount that changes the component wins and the promo code does not apply
to it (they never stack); a product's own discount wins over an all-products one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from portal.billing.cycles import Cycle
from portal.billing.errors import (
    CurrencyMismatch,
    PromoAlreadyUsed,
    PromoExpired,
    PromoNotApplicable,
    PromoNotYetValid,
    PromoUsedUp,
    PromoValueOutOfRange,
)
from portal.billing.money import (
    HUNDRED,
    ONE,
    ZERO,
    check_amount,
    check_coefficient,
    check_price,
    round_money,
    scale,
)

ProductKey = int | str


class Component(StrEnum):
    """Part of a price a discount applies to (a tariff's object in telecom billing)."""

    RECURRING = "recurring"
    ONE_TIME = "one_time"
    USAGE = "usage"
    SETUP = "setup"


@dataclass(frozen=True, slots=True)
class Discount:
    """A client's personal discount; ``product`` None means all of the client's products."""

    recurring: Decimal = ONE
    one_time: Decimal = ONE
    usage: Decimal = ONE
    setup: Decimal = ONE
    product: ProductKey | None = None

    def __post_init__(self) -> None:
        for component in Component:
            value = check_coefficient(getattr(self, component.value))
            object.__setattr__(self, component.value, value)

    def coefficient(self, component: Component) -> Decimal:
        return getattr(self, Component(component).value)

    def applies_to(self, product: ProductKey) -> bool:
        return self.product is None or self.product == product


class PromoKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True)
class PromoCode:
    """A promo code; empty ``products``/``cycles`` mean every product/cycle.

    ``value`` is a percentage (5 is 5 %) or, for a fixed promo, an amount in ``currency``.
    ``recurring`` False limits it to the first invoice of a service; ``valid_to`` is the last
    day it can be redeemed.
    """

    code: str
    kind: PromoKind
    value: Decimal
    description: str = ""
    products: frozenset[ProductKey] = frozenset()
    cycles: frozenset[Cycle] = frozenset()
    components: frozenset[Component] = frozenset({Component.RECURRING})
    recurring: bool = False
    valid_from: date | None = None
    valid_to: date | None = None
    max_uses: int | None = None
    once_per_client: bool = False
    currency: str | None = None

    def __post_init__(self) -> None:
        value = check_price(self.value, "Promo value")
        kind = PromoKind(self.kind)
        if kind is PromoKind.PERCENT and not ZERO < value <= HUNDRED:
            raise PromoValueOutOfRange(code=self.code, value=value)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "products", frozenset(self.products))
        object.__setattr__(self, "cycles", frozenset(Cycle.parse(c) for c in self.cycles))
        object.__setattr__(self, "components", frozenset(Component(c) for c in self.components))

    def covers(self, product: ProductKey, cycle: Cycle, component: Component) -> bool:
        """Whether the code discounts this product, cycle and component at all."""
        return (
            (not self.products or product in self.products)
            and (not self.cycles or cycle in self.cycles)
            and component in self.components
        )

    def check(
        self, *, product: ProductKey, cycle: Cycle, on: date, uses: int, client_uses: int
    ) -> None:
        """Refuse to redeem the code on ``on`` for this order, with the reason as an error.

        ``uses`` and ``client_uses`` are how many times the code has been redeemed so far, by
        anyone and by this client: the caller counts, this function only judges.
        """
        if self.valid_from is not None and on < self.valid_from:
            raise PromoNotYetValid(code=self.code, valid_from=self.valid_from)
        if self.valid_to is not None and on > self.valid_to:
            raise PromoExpired(code=self.code, valid_to=self.valid_to)
        if self.max_uses is not None and uses >= self.max_uses:
            raise PromoUsedUp(code=self.code)
        if self.once_per_client and client_uses > 0:
            raise PromoAlreadyUsed(code=self.code)
        if not any(self.covers(product, cycle, component) for component in Component):
            raise PromoNotApplicable(code=self.code)

    def discount(self, amount: Decimal, currency: str) -> Decimal:
        """How much the code takes off a line of ``amount`` (never more than the line)."""
        amount = check_amount(amount)
        if self.kind is PromoKind.PERCENT:
            return scale(amount, self.value, HUNDRED, currency)
        if self.currency is not None and self.currency != currency:
            raise CurrencyMismatch(expected=currency, actual=self.currency)
        return round_money(min(self.value, max(amount, ZERO)), currency)


@dataclass(frozen=True, slots=True)
class AppliedDiscount:
    """The outcome for one line: a personal coefficient, or a promo code to add as a line."""

    coefficient: Decimal = ONE
    promo: PromoCode | None = None


NO_DISCOUNT = AppliedDiscount()


def resolve_discount(
    product: ProductKey,
    cycle: Cycle,
    component: Component,
    *,
    personal: Iterable[Discount] = (),
    promo: PromoCode | None = None,
    first_invoice: bool = True,
    voluntary_suspension: bool = False,
) -> AppliedDiscount:
    """Which discount a line of ``product`` gets for ``component`` (see the module docstring).

    ``promo`` is a code the client redeemed for this service (checked with
    :meth:`PromoCode.check` when it was entered); ``first_invoice`` says whether this is the
    service's first invoice, after which a non-recurring code no longer applies.
    """
    if voluntary_suspension:
        return NO_DISCOUNT
    matching = [discount for discount in personal if discount.applies_to(product)]
    matching.sort(key=lambda discount: discount.product is None)
    if matching:
        coefficient = matching[0].coefficient(component)
        if coefficient != ONE:
            return AppliedDiscount(coefficient=coefficient)
    if (
        promo is not None
        and promo.covers(product, cycle, component)
        and (promo.recurring or first_invoice)
    ):
        return AppliedDiscount(promo=promo)
    return NO_DISCOUNT
