"""Typed billing errors.

Every error has a stable ``code`` and the ``params`` it was raised with, so the web layer can
translate it (look the code up, format with the params); ``message`` is the English text, fit to
show a user. ``template`` is a class attribute so that the English and the translated texts are
formatted the same way. Every error is a ``ValueError``: bad input, never a crash of the caller.
"""

from __future__ import annotations

from typing import ClassVar


class BillingError(ValueError):
    """Base of all billing errors."""

    code: ClassVar[str] = "billing_error"
    template: ClassVar[str] = "The amount cannot be calculated."

    def __init__(self, **params: object) -> None:
        self.params: dict[str, object] = params
        self.message: str = self.template.format(**params)
        super().__init__(self.message)


# Amounts and currencies ------------------------------------------------------------------------


class FloatNotAllowed(BillingError):
    """A float reached the money code: it cannot hold 0.1 exactly, so we refuse it."""

    code = "float_not_allowed"
    template = "{field} must be a Decimal, not the float {value}."


class InvalidAmount(BillingError):
    """Not a finite decimal number."""

    code = "invalid_amount"
    template = "{field} must be a decimal number, got {value}."


class NegativePrice(InvalidAmount):
    code = "negative_price"
    template = "{field} {value} must not be negative."


class PricePrecision(InvalidAmount):
    code = "price_precision"
    template = "{field} {value} has more than 4 decimal places."


class AmountPrecision(InvalidAmount):
    """An amount that must already be in minor units has more decimals than the currency."""

    code = "amount_precision"
    template = "Amount {value} has more decimal places than {currency} allows ({places})."


class InvalidWeights(InvalidAmount):
    code = "invalid_weights"
    template = (
        "Cannot split an amount over the weights {weights}: they must be non-negative "
        "and not all zero."
    )


class UnknownCurrency(BillingError):
    code = "unknown_currency"
    template = "Unknown currency code {currency}."


class CurrencyMismatch(BillingError):
    code = "currency_mismatch"
    template = "Cannot combine amounts in {expected} and {actual}."


# Coefficients ----------------------------------------------------------------------------------


class InvalidCoefficient(BillingError):
    """A discount coefficient that is not a non-negative number with at most 4 decimals."""

    code = "invalid_coefficient"
    template = "Discount coefficient {value} is not a valid coefficient."


class CoefficientPrecision(InvalidCoefficient):
    code = "coefficient_precision"
    template = "Discount coefficient {value} has more than 4 decimal places."


class NegativeCoefficient(InvalidCoefficient):
    code = "coefficient_negative"
    template = "Discount coefficient {value} must not be negative."


# Dates, periods, cycles ------------------------------------------------------------------------


class InvalidPeriod(BillingError):
    code = "period_end_not_after_start"
    template = "The period end {end} must be after its start {start}."


class DateOutsidePeriod(InvalidPeriod):
    code = "date_outside_period"
    template = "Date {date} is outside the period from {start} to {end}."


class DateBeforeStart(InvalidPeriod):
    code = "date_before_start"
    template = "Date {date} is before the service start {start}."


class InvalidDay(InvalidPeriod):
    code = "invalid_day"
    template = "{field} {value} must be a day of the month from 1 to 31."


class InvalidPeriodCount(InvalidPeriod):
    code = "invalid_period_count"
    template = "The number of periods must be a whole number, got {value}."


class UnknownCycle(BillingError):
    code = "unknown_cycle"
    template = "Unknown billing cycle {value}."


class CycleNotRecurring(BillingError):
    code = "cycle_not_recurring"
    template = "The {cycle} billing cycle has no renewal dates."


class UnknownDayCount(BillingError):
    code = "unknown_day_count"
    template = "Unknown day-count convention {value}."


# Upgrades and downgrades -----------------------------------------------------------------------


class InvalidChange(BillingError):
    code = "invalid_change"
    template = "This change of the service cannot be made."


class ShorterCycleMidTerm(InvalidChange):
    code = "shorter_cycle_mid_term"
    template = (
        "Switching from {old} to {new} billing takes effect at the end of the paid period, "
        "on {end}."
    )


class OneTimeNotChangeable(InvalidChange):
    code = "one_time_not_changeable"
    template = "A one-time purchase has no remaining period and cannot be changed."


class PeriodRequired(InvalidChange):
    code = "period_required"
    template = "The current paid period is needed to change a {cycle} service."


# Prices and options ----------------------------------------------------------------------------


class PriceNotAvailable(BillingError):
    code = "no_price_for_cycle"
    template = "No price is set for the {cycle} billing cycle."


class FreeCycleWithPrice(InvalidAmount):
    code = "free_cycle_with_price"
    template = "A free service cannot cost {value}."


class InvalidQuantity(BillingError):
    code = "invalid_quantity"
    template = "{option}: the quantity must be a whole number, got {quantity}."


class QuantityBelowMinimum(InvalidQuantity):
    code = "quantity_below_minimum"
    template = "{option}: the quantity {quantity} is below the minimum of {minimum}."


class QuantityAboveMaximum(InvalidQuantity):
    code = "quantity_above_maximum"
    template = "{option}: the quantity {quantity} is above the maximum of {maximum}."


class QuantityStep(InvalidQuantity):
    code = "quantity_step"
    template = "{option}: the quantity {quantity} must be {minimum} plus a multiple of {step}."


class UnknownChoice(BillingError):
    code = "unknown_choice"
    template = "{option}: {choice} is not one of the available choices."


# Promo codes -----------------------------------------------------------------------------------


class InvalidPromoCode(BillingError):
    code = "invalid_promo_code"
    template = "Promo code {code} cannot be used."


class PromoValueOutOfRange(InvalidPromoCode):
    code = "promo_value_out_of_range"
    template = "Promo code {code}: a percentage must be above 0 and at most 100, got {value}."


class PromoNotYetValid(InvalidPromoCode):
    code = "promo_not_yet_valid"
    template = "Promo code {code} can be used from {valid_from}."


class PromoExpired(InvalidPromoCode):
    code = "promo_expired"
    template = "Promo code {code} expired on {valid_to}."


class PromoUsedUp(InvalidPromoCode):
    code = "promo_used_up"
    template = "Promo code {code} has been used the maximum number of times."


class PromoAlreadyUsed(InvalidPromoCode):
    code = "promo_already_used"
    template = "Promo code {code} has already been used by this client."


class PromoNotApplicable(InvalidPromoCode):
    code = "promo_not_applicable"
    template = "Promo code {code} does not apply to this product or billing cycle."


# Taxes -----------------------------------------------------------------------------------------


class InvalidTaxRate(BillingError):
    code = "invalid_tax_rate"
    template = "Tax rate {value} % must be a non-negative number with at most 4 decimal places."


class NoTaxRate(BillingError):
    code = "no_tax_rate"
    template = "No tax rate applies on {date}."


class InconsistentLine(BillingError):
    """A line whose net, tax and total do not add up: never printed on a document."""

    code = "inconsistent_line"
    template = (
        "Line {number} does not add up: amount {amount}, net {net}, tax {tax}, total {total}."
    )
