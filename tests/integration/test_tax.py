"""Tax of a line: dated rates from Settings, tax-exempt clients, the plugins' decision hook."""

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask

from portal.catalog import tax
from portal.core.extensions import db
from tests.plugins import exerciser


def test_russian_vat_by_tax_date(app: Flask, client_account) -> None:
    assert tax.line_tax(client_account, tax_date=date(2025, 12, 31)).percent == Decimal("20")
    assert tax.line_tax(client_account, tax_date=date(2026, 1, 1)).percent == Decimal("22")
    client_account.tax_exempt = True
    db.session.commit()
    assert tax.line_tax(client_account, tax_date=date(2026, 1, 1)).percent == Decimal("0")


def test_rates_from_settings_and_overlap_refused(app: Flask, client_account) -> None:
    tax.save_tax_rates(
        [
            {"percent": "5", "valid_from": "2026-01-01", "valid_to": None, "name": "УСН НДС 5 %"},
            {"percent": "0", "valid_from": None, "valid_to": "2025-12-31"},
        ]
    )
    assert tax.line_tax(client_account, tax_date=date(2026, 6, 1), inclusive=True) == (
        tax.billing.LineTax(Decimal("5"), inclusive=True)
    )
    with pytest.raises(tax.TaxSettingsError, match="cover the same dates"):
        tax.save_tax_rates(
            [
                {"percent": "5", "valid_from": "2026-01-01"},
                {"percent": "7", "valid_from": "2026-06-01"},
            ]
        )
    with pytest.raises(tax.TaxSettingsError, match="Check the rate 120"):
        tax.save_tax_rates([{"percent": "120"}])


def test_a_plugin_decides_first(make_app, client_account) -> None:
    app = make_app(extra_plugins=(exerciser,))
    with app.app_context():
        assert (
            tax.line_tax(client_account, tax_date=date(2026, 1, 1), product_type="book").percent
            == 0
        )
        assert (
            tax.line_tax(client_account, tax_date=date(2026, 1, 1), product_type="hosting").percent
            == 22
        )


def test_staff_edit_the_rates(staff_web, client_account) -> None:
    page = staff_web.get("/admin/billing/settings/taxes").get_data(as_text=True)
    assert 'value="22"' in page and 'value="2026-01-01"' in page
    staff_web.submit(
        "/admin/billing/settings/taxes",
        {
            "percent": ["20", "22", ""],
            "valid_from": ["", "2026-01-01", ""],
            "valid_to": ["2025-12-31", "", ""],
            "name": ["НДС", "НДС", ""],
        },
    )
    assert tax.line_tax(client_account, tax_date=date(2026, 3, 1)).percent == Decimal("22")
    bad = staff_web.submit(
        "/admin/billing/settings/taxes",
        {
            "percent": ["20", "22"],
            "valid_from": ["", "2025-06-01"],
            "valid_to": ["", ""],
            "name": ["", ""],
        },
        follow_redirects=True,
    )
    assert "cover the same dates" in bad.get_data(as_text=True)
