"""Every billing error: how it is raised, its code, its params and its English message."""

from datetime import date
from decimal import Decimal as D

import pytest

from portal.billing import (
    Cycle,
    DayCount,
    Discount,
    DropdownOption,
    LineAmounts,
    LineTax,
    Period,
    PriceList,
    ProductPrice,
    PromoCode,
    PromoKind,
    QuantityOption,
    TaxContext,
    Terms,
    allocate,
    charge_line,
    check_coefficient,
    document_figures,
    draft_invoice,
    next_due,
    period_containing,
    periods_between,
    prorate,
    quote_change,
    resolve_tax_rate,
    round_money,
)
from portal.billing import errors as e

RUB = "RUB"
HALF = Period(date(2019, 2, 1), date(2019, 8, 1))
USERS = QuantityOption(
    "Users", "user", PriceList(RUB, {Cycle.MONTHLY: D("100")}), minimum=1, maximum=10, step=2
)
PROMO = PromoCode(
    "SPRING",
    PromoKind.PERCENT,
    D("10"),
    products={"vps"},
    valid_from=date(2019, 3, 1),
    valid_to=date(2019, 5, 31),
    max_uses=5,
    once_per_client=True,
)


def _promo_check(on=date(2019, 4, 1), uses=0, client_uses=0, product="vps"):
    PROMO.check(product=product, cycle=Cycle.MONTHLY, on=on, uses=uses, client_uses=client_uses)


CASES = [
    (
        lambda: round_money(0.1, RUB),
        e.FloatNotAllowed,
        "Amount must be a Decimal, not the float 0.1.",
    ),
    (
        lambda: round_money("12.50", RUB),
        e.InvalidAmount,
        "Amount must be a decimal number, got 12.50.",
    ),
    (
        lambda: PriceList(RUB, {Cycle.MONTHLY: D("-1")}),
        e.NegativePrice,
        "Price -1 must not be negative.",
    ),
    (
        lambda: PriceList(RUB, {Cycle.MONTHLY: D("1.00001")}),
        e.PricePrecision,
        "Price 1.00001 has more than 4 decimal places.",
    ),
    (
        lambda: allocate(D("100.005"), [1, 1], RUB),
        e.AmountPrecision,
        "Amount 100.005 has more decimal places than RUB allows (2).",
    ),
    (
        lambda: allocate(D("100"), [0, 0], RUB),
        e.InvalidWeights,
        "Cannot split an amount over the weights [0, 0]: they must be non-negative and not all "
        "zero.",
    ),
    (lambda: round_money(D(1), "XYZ"), e.UnknownCurrency, "Unknown currency code XYZ."),
    (
        lambda: PriceList(RUB, {}).with_overrides(PriceList("EUR", {})),
        e.CurrencyMismatch,
        "Cannot combine amounts in RUB and EUR.",
    ),
    (
        lambda: check_coefficient("0.9"),
        e.InvalidCoefficient,
        "Discount coefficient 0.9 is not a valid coefficient.",
    ),
    (
        lambda: Discount(recurring=D("0.12345")),
        e.CoefficientPrecision,
        "Discount coefficient 0.12345 has more than 4 decimal places.",
    ),
    (
        lambda: check_coefficient(D("-0.5")),
        e.NegativeCoefficient,
        "Discount coefficient -0.5 must not be negative.",
    ),
    (
        lambda: Period(date(2019, 8, 1), date(2019, 8, 1)),
        e.InvalidPeriod,
        "The period end 2019-08-01 must be after its start 2019-08-01.",
    ),
    (
        lambda: prorate(D(360), HALF.start, HALF.end, date(2019, 8, 2), DayCount.ACTUAL, RUB),
        e.DateOutsidePeriod,
        "Date 2019-08-02 is outside the period from 2019-02-01 to 2019-08-01.",
    ),
    (
        lambda: period_containing(date(2019, 2, 1), Cycle.MONTHLY, date(2019, 1, 1)),
        e.DateBeforeStart,
        "Date 2019-01-01 is before the service start 2019-02-01.",
    ),
    (
        lambda: next_due(date(2019, 1, 1), Cycle.MONTHLY, anchor_day=32),
        e.InvalidDay,
        "Anchor day 32 must be a day of the month from 1 to 31.",
    ),
    (
        lambda: next_due(date(2019, 1, 1), Cycle.MONTHLY, periods=1.5),
        e.InvalidPeriodCount,
        "The number of periods must be a whole number, got 1.5.",
    ),
    (lambda: Cycle.parse("weekly"), e.UnknownCycle, "Unknown billing cycle weekly."),
    (
        lambda: periods_between(date(2019, 1, 1), date(2020, 1, 1), Cycle.FREE),
        e.CycleNotRecurring,
        "The free billing cycle has no renewal dates.",
    ),
    (
        lambda: DayCount.parse("30/365"),
        e.UnknownDayCount,
        "Unknown day-count convention 30/365.",
    ),
    (
        lambda: quote_change(
            Terms(Cycle.ANNUAL, D(12000)),
            Terms(Cycle.MONTHLY, D(1100)),
            date(2019, 5, 1),
            Period(date(2019, 2, 1), date(2020, 2, 1)),
            DayCount.ACTUAL,
            RUB,
        ),
        e.ShorterCycleMidTerm,
        "Switching from annual to monthly billing takes effect at the end of the paid period, "
        "on 2020-02-01.",
    ),
    (
        lambda: quote_change(
            Terms(Cycle.ONE_TIME, D(100)),
            Terms(Cycle.ONE_TIME, D(200)),
            date(2019, 5, 1),
            None,
            DayCount.ACTUAL,
            RUB,
        ),
        e.OneTimeNotChangeable,
        "A one-time purchase has no remaining period and cannot be changed.",
    ),
    (
        lambda: quote_change(
            Terms(Cycle.MONTHLY, D(100)),
            Terms(Cycle.MONTHLY, D(200)),
            date(2019, 5, 1),
            None,
            DayCount.ACTUAL,
            RUB,
        ),
        e.PeriodRequired,
        "The current paid period is needed to change a monthly service.",
    ),
    (
        lambda: PriceList(RUB, {Cycle.MONTHLY: D(1)}).price(Cycle.ANNUAL),
        e.PriceNotAvailable,
        "No price is set for the annual billing cycle.",
    ),
    (
        lambda: Terms(Cycle.FREE, D(5)),
        e.FreeCycleWithPrice,
        "A free service cannot cost 5.",
    ),
    (
        lambda: USERS.select(D(3)),
        e.InvalidQuantity,
        "Users: the quantity must be a whole number, got 3.",
    ),
    (
        lambda: USERS.select(0),
        e.QuantityBelowMinimum,
        "Users: the quantity 0 is below the minimum of 1.",
    ),
    (
        lambda: USERS.select(11),
        e.QuantityAboveMaximum,
        "Users: the quantity 11 is above the maximum of 10.",
    ),
    (
        lambda: USERS.select(4),
        e.QuantityStep,
        "Users: the quantity 4 must be 1 plus a multiple of 2.",
    ),
    (
        lambda: DropdownOption("OS", {"Linux": PriceList(RUB, {})}).select("BSD"),
        e.UnknownChoice,
        "OS: BSD is not one of the available choices.",
    ),
    (
        lambda: PromoCode("BIG", PromoKind.PERCENT, D(120)),
        e.PromoValueOutOfRange,
        "Promo code BIG: a percentage must be above 0 and at most 100, got 120.",
    ),
    (
        lambda: _promo_check(on=date(2019, 2, 28)),
        e.PromoNotYetValid,
        "Promo code SPRING can be used from 2019-03-01.",
    ),
    (
        lambda: _promo_check(on=date(2019, 6, 1)),
        e.PromoExpired,
        "Promo code SPRING expired on 2019-05-31.",
    ),
    (
        lambda: _promo_check(uses=5),
        e.PromoUsedUp,
        "Promo code SPRING has been used the maximum number of times.",
    ),
    (
        lambda: _promo_check(client_uses=1),
        e.PromoAlreadyUsed,
        "Promo code SPRING has already been used by this client.",
    ),
    (
        lambda: _promo_check(product="mail"),
        e.PromoNotApplicable,
        "Promo code SPRING does not apply to this product or billing cycle.",
    ),
    (
        lambda: LineTax(D("-20")),
        e.InvalidTaxRate,
        "Tax rate -20 % must be a non-negative number with at most 4 decimal places.",
    ),
    (
        lambda: resolve_tax_rate(TaxContext(date(2019, 1, 1)), rates=()),
        e.NoTaxRate,
        "No tax rate applies on 2019-01-01.",
    ),
    (
        lambda: document_figures(
            [LineAmounts(D(1), D(100), D(100), D(22), False, D(100), D(22), D(121))], RUB
        ),
        e.InconsistentLine,
        "Line 1 does not add up: amount 100, net 100, tax 22, total 121.",
    ),
]

#: Base classes that only group the errors above; nothing raises them directly.
GROUPS = {e.BillingError, e.InvalidChange, e.InvalidPromoCode}


def _all_errors(cls=e.BillingError):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_errors(sub)


@pytest.mark.parametrize(
    ("trigger", "error", "message"), CASES, ids=[case[1].__name__ for case in CASES]
)
def test_error_code_params_and_message(trigger, error, message):
    with pytest.raises(error) as raised:
        trigger()
    assert type(raised.value) is error
    assert raised.value.message == message == str(raised.value)
    assert raised.value.code == error.code
    assert error.template.format(**raised.value.params) == message
    assert isinstance(raised.value, ValueError)


def test_every_error_is_exercised():
    assert {case[1] for case in CASES} == set(_all_errors()) - GROUPS


def test_codes_are_unique_snake_case():
    codes = [error.code for error in _all_errors()] + [e.BillingError.code]
    assert len(codes) == len(set(codes))
    assert all(code.replace("_", "").isalnum() and code.islower() for code in codes)


def test_errors_group_by_family():
    assert issubclass(e.ShorterCycleMidTerm, e.InvalidChange)
    assert issubclass(e.PromoExpired, e.InvalidPromoCode)
    assert issubclass(e.CoefficientPrecision, e.InvalidCoefficient)
    assert issubclass(e.NegativePrice, e.InvalidAmount)
    assert issubclass(e.DateOutsidePeriod, e.InvalidPeriod)


def test_float_is_refused_everywhere_money_enters():
    refusals = [
        lambda: prorate(360.0, HALF.start, HALF.end, HALF.start, DayCount.ACTUAL, RUB),
        lambda: allocate(D(100), [1.5, 1], RUB),
        lambda: PriceList(RUB, {Cycle.MONTHLY: 9.99}),
        lambda: Discount(setup=0.5),
        lambda: Terms(Cycle.MONTHLY, 10.0),
        lambda: charge_line("x", D(1), RUB, quantity=2.0),
        lambda: charge_line("x", D(1), RUB, coefficient=0.9),
        lambda: LineTax(22.0),
        lambda: PromoCode("X", PromoKind.FIXED, 5.0),
        lambda: draft_invoice([], RUB, credit_available=1.0),
        lambda: resolve_tax_rate(TaxContext(date(2026, 1, 1)), override=lambda context: 0.0),
        lambda: ProductPrice(PriceList(RUB, {Cycle.MONTHLY: 1.0})),
    ]
    for refusal in refusals:
        with pytest.raises(e.FloatNotAllowed):
            refusal()
