"""Currencies and exchange rates by date."""

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask

from portal.catalog import currencies


def test_rates_apply_from_their_date(app: Flask) -> None:
    currencies.save_rates(
        [
            {"code": "usd", "rate": "92.5012", "since": "2026-01-01"},
            {"code": "USD", "rate": "95", "since": "2026-06-01"},
            {"code": "", "rate": "", "since": ""},
        ]
    )
    assert currencies.enabled_currencies() == ["RUB", "USD"]
    assert currencies.exchange_rate("USD", date(2026, 5, 31)) == Decimal("92.5012")
    assert currencies.to_default(Decimal("10.00"), "USD", date(2026, 6, 1)) == Decimal("950.00")
    assert currencies.to_default(Decimal("1.00"), "USD", date(2026, 2, 1)) == Decimal("92.50")
    with pytest.raises(currencies.CurrencyError, match="no USD rate"):
        currencies.exchange_rate("USD", date(2025, 12, 31))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"code": "XXQ", "rate": "1", "since": "2026-01-01"}, "not a currency code"),
        ({"code": "RUB", "rate": "1", "since": "2026-01-01"}, "not a currency code"),
        ({"code": "EUR", "rate": "1,00001", "since": "2026-01-01"}, "at most 4 decimals"),
        ({"code": "EUR", "rate": "-1", "since": "2026-01-01"}, "above zero"),
        ({"code": "EUR", "rate": "abc", "since": "2026-01-01"}, "Check the EUR row"),
        ({"code": "EUR", "rate": "100", "since": "01.01.2026"}, "Check the EUR row"),
    ],
)
def test_wrong_rows_are_explained(app: Flask, row: dict, message: str) -> None:
    with pytest.raises(currencies.CurrencyError, match=message):
        currencies.save_rates([row])


def test_staff_edit_rates(staff_web) -> None:
    staff_web.submit(
        "/admin/billing/settings/currencies",
        {"code": ["EUR", ""], "rate": ["100.1", ""], "since": ["2026-01-01", ""]},
    )
    assert currencies.exchange_rate("EUR", date(2026, 3, 1)) == Decimal("100.1")
    page = staff_web.get("/admin/billing/settings/currencies").get_data(as_text=True)
    assert 'value="EUR"' in page
