"""What a typed amount may look like (docs/security.md, "Input bounds")."""

from decimal import Decimal

import pytest

from portal.billing.amounts import parse_amount


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1500", Decimal("1500")),
        ("1500,50", Decimal("1500.50")),
        (" 1500.5 ", Decimal("1500.5")),
        ("1 220,50", Decimal("1220.50")),
        ("1\u00a0220\u00a0000,00", Decimal("1220000.00")),
        ("0,0001", Decimal("0.0001")),
        ("99999999999999.9999", Decimal("99999999999999.9999")),
    ],
)
def test_plain_decimal_notation_is_read(text: str, value: Decimal) -> None:
    assert parse_amount(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "²",
        "１００",
        "1_000",
        "1e3",
        "1e309",
        "1E+100",
        "NaN",
        "inf",
        "-1",
        "",
        "1,2,3",
        "1.2.3",
        "12 34",
        "100000000000000",
        "1,00001",
        "1 000,5 0",
        "<script>",
        "1\x00",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def test_a_sign_and_more_places_only_when_asked() -> None:
    assert parse_amount("-12,5", signed=True) == Decimal("-12.5")
    assert parse_amount("0,12345678", places=8) == Decimal("0.12345678")
    with pytest.raises(ValueError):
        parse_amount("12,345", places=2)
