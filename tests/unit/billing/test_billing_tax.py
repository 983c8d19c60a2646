"""Effective-dated tax rates, exemptions, client rules, the plugin override, tax per line."""

from datetime import date
from decimal import Decimal as D

import pytest

from portal.billing import (
    NO_TAX,
    RUSSIAN_VAT,
    InvalidTaxRate,
    LineTax,
    TaxContext,
    TaxedAmount,
    TaxRate,
    apply_tax,
    resolve_tax_rate,
)


@pytest.mark.parametrize(
    ("tax_date", "percent"),
    [
        (date(2018, 12, 31), D(18)),
        (date(2019, 1, 1), D(20)),
        (date(2025, 12, 31), D(20)),
        (date(2026, 1, 1), D(22)),
        (date(2030, 6, 1), D(22)),
    ],
)
def test_russian_vat_by_tax_date(tax_date, percent):
    assert resolve_tax_rate(TaxContext(tax_date)) == percent
    assert resolve_tax_rate(TaxContext(tax_date), RUSSIAN_VAT) == percent


def test_exempt_client_pays_no_tax():
    assert resolve_tax_rate(TaxContext(date(2026, 1, 1), tax_exempt=True)) == 0


def test_client_rules_with_window_and_product_types():
    rules = [
        TaxRate(D(10), date(2026, 1, 1), date(2026, 6, 30), product_types={"hosting"}),
        TaxRate(D(0), date(2026, 1, 1), None),
    ]
    assert resolve_tax_rate(TaxContext(date(2026, 3, 1), "hosting"), client_rules=rules) == 10
    assert resolve_tax_rate(TaxContext(date(2026, 7, 1), "hosting"), client_rules=rules) == 0
    assert resolve_tax_rate(TaxContext(date(2025, 7, 1), "hosting"), client_rules=rules) == 20


def test_override_has_the_last_word_and_none_passes():
    seen = []

    def hook(context):
        seen.append(context)
        return D("7.5") if context.client == 42 else None

    assert resolve_tax_rate(
        TaxContext(date(2026, 1, 1), client=42, tax_exempt=True), override=hook
    ) == D("7.5")
    assert resolve_tax_rate(TaxContext(date(2026, 1, 1), client=1), override=hook) == 22
    assert [context.client for context in seen] == [42, 1]


def test_override_result_is_validated():
    with pytest.raises(InvalidTaxRate):
        resolve_tax_rate(TaxContext(date(2026, 1, 1)), override=lambda context: D(-1))
    with pytest.raises(InvalidTaxRate):
        resolve_tax_rate(TaxContext(date(2026, 1, 1)), override=lambda context: "22")


def test_vat_22_exclusive_and_inclusive():
    assert apply_tax(D("10000.00"), LineTax(D(22)), "RUB") == TaxedAmount(
        D("10000.00"), D("2200.00"), D("12200.00")
    )
    assert apply_tax(D("12200.00"), LineTax(D(22), inclusive=True), "RUB") == TaxedAmount(
        D("10000.00"), D("2200.00"), D("12200.00")
    )
    inclusive = apply_tax(D("1000.00"), LineTax(D(22), inclusive=True), "RUB")
    assert inclusive == TaxedAmount(D("819.67"), D("180.33"), D("1000.00"))


def test_vat_20_inclusive_sixth():
    assert apply_tax(D("1200.00"), LineTax(D(20), inclusive=True), "RUB").tax == D("200.00")
    assert apply_tax(D("100.00"), LineTax(D(20), inclusive=True), "RUB").tax == D("16.67")


def test_no_tax_and_negative_lines():
    assert apply_tax(D("5.00"), NO_TAX, "RUB") == TaxedAmount(D("5.00"), D("0.00"), D("5.00"))
    assert apply_tax(D("-669.00"), LineTax(D(22)), "RUB") == TaxedAmount(
        D("-669.00"), D("-147.18"), D("-816.18")
    )


def test_tax_in_yen():
    assert apply_tax(D(1005), LineTax(D(10)), "JPY") == TaxedAmount(D(1005), D(101), D(1106))
