"""Money: minor units per currency, half-up rounding once, exact allocation, no floats."""

from decimal import Decimal as D
from decimal import localcontext

import pytest

from portal.billing import (
    AmountPrecision,
    FloatNotAllowed,
    InvalidAmount,
    allocate,
    check_amount,
    check_coefficient,
    check_price,
    minor_units,
    quantum,
    round_money,
)
from portal.billing.money import scale


@pytest.mark.parametrize(
    ("currency", "places"),
    [("RUB", 2), ("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("rub", 2)],
)
def test_minor_units_come_from_cldr(currency, places):
    assert minor_units(currency) == places


def test_quantum_is_cached_and_exact():
    assert quantum("RUB") == D("0.01")
    assert str(quantum("JPY")) == "1"
    assert quantum("RUB") is quantum("RUB")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.345", "RUB", "2.35"),
        ("2.344999", "RUB", "2.34"),
        ("-2.345", "RUB", "-2.35"),
        ("0.005", "RUB", "0.01"),
        ("2.5", "JPY", "3"),
        ("3.5", "JPY", "4"),
        ("-0.4", "JPY", "0"),
        ("1.0005", "BHD", "1.001"),
        ("48336", "RUB", "48336.00"),
    ],
)
def test_round_half_up(amount, currency, expected):
    assert str(round_money(D(amount), currency)) == expected


def test_rounding_ignores_the_callers_decimal_context():
    with localcontext() as ctx:
        ctx.prec = 3
        assert scale(D("13380.00"), 5, 100, "RUB") == D("669.00")
        assert round_money(D("123456.785"), "RUB") == D("123456.79")


def test_scale_never_returns_negative_zero():
    assert str(scale(D("-0.001"), 1, 1, "RUB")) == "0.00"


def test_check_amount_accepts_decimal_and_int_only():
    assert check_amount(5) == D(5)
    assert check_amount(D("1.5")) == D("1.5")
    for bad in (D("NaN"), D("Infinity"), "1", None, True):
        with pytest.raises(InvalidAmount):
            check_amount(bad)
    with pytest.raises(FloatNotAllowed):
        check_amount(1.0)


def test_prices_and_coefficients_carry_four_places():
    assert check_price(D("0.1234")) == D("0.1234")
    assert check_price(D("0.12340")) == D("0.12340")  # trailing zero, still 4 places
    assert check_coefficient(D("0.1111")) == D("0.1111")
    assert check_coefficient(0) == 0
    assert check_coefficient(2) == 2


def test_allocate_adds_up_exactly():
    parts = allocate(D("100.00"), [1, 1, 1], "RUB")
    assert parts == (D("33.34"), D("33.33"), D("33.33"))
    assert sum(parts) == D("100.00")


def test_allocate_ties_go_to_the_earlier_part():
    assert allocate(D("0.01"), [1, 1], "RUB") == (D("0.01"), D("0.00"))


def test_allocate_negative_is_the_mirror_of_positive():
    assert allocate(D("-100.00"), [1, 1, 1], "RUB") == (D("-33.34"), D("-33.33"), D("-33.33"))


def test_allocate_jpy_has_no_decimals():
    parts = allocate(1000, [1, 1, 1], "JPY")
    assert parts == (D(334), D(333), D(333))
    assert all(part.as_tuple().exponent == 0 for part in parts)


def test_allocate_zero_weights_get_zero():
    assert allocate(D("10.00"), [0, 1, 0], "RUB") == (D("0.00"), D("10.00"), D("0.00"))


def test_allocate_refuses_amounts_finer_than_the_currency():
    with pytest.raises(AmountPrecision):
        allocate(D("10.5"), [1], "JPY")
