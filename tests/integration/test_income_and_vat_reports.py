"""The income and VAT reports against figures computed by hand (tests/fixtures/income.py),
on SQLite and PostgreSQL alike: the GROUP BY, the date buckets and the VAT shares are SQL."""

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.invoicing.models import Invoice, InvoiceKind
from portal.reports import income
from portal.reports.income import IncomeReport
from portal.reports.vat import VatReport
from tests.fixtures.income import make_book

D = Decimal
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
AUTUMN = {"since": date(2026, 10, 1), "until": date(2026, 11, 30), "currency": "RUB"}


@pytest.fixture
def book(app: Flask, clock):
    return make_book(clock)


def test_income_by_month_net_vat_gross_refunds_and_credit_notes(book) -> None:
    result = IncomeReport().run({**AUTUMN, "group_by": "month"})
    assert [c.kind for c in result.columns][:2] == ["month", "money"]
    assert result.rows == [
        [OCT, D("12200.00"), D("0.00"), D("12200.00"), D("2200.00"), D("10000.00"), D("0.00")],
        [NOV, D("8000.00"), D("-1220.00"), D("6780.00"), D("880.00"), D("5900.00"), D("-1220.00")],
    ]
    assert result.totals == [
        None, D("20200.00"), D("-1220.00"), D("18980.00"), D("3080.00"), D("15900.00"),
        D("-1220.00"),
    ]  # fmt: skip
    assert result.currency == "RUB" and result.chart is not None


def test_income_by_day_year_and_payment_method(book) -> None:
    days = IncomeReport().run({**AUTUMN, "group_by": "day"})
    by_day = {row[0]: row[3] for row in days.rows if row[3]}
    assert by_day == {
        date(2026, 10, 12): D("12200.00"),
        date(2026, 11, 3): D("8000.00"),
        date(2026, 11, 5): D("-1220.00"),
    }
    assert len(days.rows) == 61  # every day of the period, the empty ones too
    years = IncomeReport().run({**AUTUMN, "group_by": "year"})
    assert [row[:5] for row in years.rows] == [
        [2026, D("20200.00"), D("-1220.00"), D("18980.00"), D("3080.00")]
    ]
    methods = IncomeReport().run({**AUTUMN, "group_by": "method"})
    assert [row[:6] for row in methods.rows] == [
        ["bank", D("12200.00"), D("-1220.00"), D("10980.00"), D("1980.00"), D("9000.00")],
        ["card", D("8000.00"), D("0.00"), D("8000.00"), D("1100.00"), D("6900.00")],
    ]


def test_income_by_product_and_group_adds_up_to_the_net_received(book) -> None:
    result = IncomeReport().run({**AUTUMN, "group_by": "product"})
    rows = {row[0]: row[1:] for row in result.rows}
    # the credit note corrects the hosting line: its −1 220 is the hosting product's
    assert rows["Хостинг «Бизнес»"] == [
        D("12200.00"), D("2200.00"), D("10000.00"), D("-1220.00"),
    ]  # fmt: skip
    assert rows["1С: Бухгалтерия"][:3] == [D("6100.00"), D("1100.00"), D("5000.00")]
    assert rows["Other (no product)"][:3] == [D("1000.00"), D("0.00"), D("1000.00")]
    credit = rows["Not allocated to invoices (credit balance)"]
    assert credit[:3] == [D("900.00"), D("0.00"), D("900.00")] and str(credit[1]) == "0.00"
    assert rows["Refunds paid out"][:3] == [D("-1220.00"), D("-220.00"), D("-1000.00")]
    assert result.totals[1:4] == [D("18980.00"), D("3080.00"), D("15900.00")]
    groups = IncomeReport().run({**AUTUMN, "group_by": "product_group"})
    assert {row[0]: row[1] for row in groups.rows}["1С в облаке"] == D("6100.00")
    only = IncomeReport().run({**AUTUMN, "group_by": "month", "product": book.onec.id})
    assert [row[:3] for row in only.rows] == [["1С: Бухгалтерия", D("6100.00"), D("1100.00")]]


def test_income_filters_by_manager_and_currency(book) -> None:
    mine = IncomeReport().run({**AUTUMN, "group_by": "month", "manager": book.manager.id})
    assert [row[3] for row in mine.rows] == [D("12200.00"), D("-1220.00")]
    dollars = IncomeReport().run({**AUTUMN, "group_by": "month", "currency": "USD"})
    assert [row[3] for row in dollars.rows] == [D("0.00"), D("0.00")]


def test_income_functions_the_dashboard_uses(book) -> None:
    assert income.income_total(date(2026, 11, 1), date(2026, 11, 30)) == {"RUB": D("6780.00")}
    assert income.income_by_month(date(2026, 9, 15), 3, "RUB") == [
        (date(2026, 9, 1), D("0.00")),
        (OCT, D("12200.00")),
        (NOV, D("6780.00")),
    ]


def test_vat_per_rate_and_month_matches_the_documents(book) -> None:
    result = VatReport().run({**AUTUMN, "group_by": "month"})
    assert [row[:2] + row[6:] for row in result.rows] == [
        [OCT, D("22"), D("15000.00"), D("3300.00"), D("18300.00")],
        [OCT, None, D("1000.00"), D("0.00"), D("1000.00")],
        [NOV, D("22"), D("-1000.00"), D("-220.00"), D("-1220.00")],
    ]
    assert result.rows[2][2:6] == [D("0.00"), D("0.00"), D("-1000.00"), D("-220.00")]
    documents_tax = db.session.scalar(
        select(func.sum(Invoice.tax)).where(
            Invoice.kind.in_((InvoiceKind.INVOICE, InvoiceKind.CREDIT_NOTE))
        )
    )
    assert result.totals[7] == documents_tax == D("3080.00")
    quarters = VatReport().run({**AUTUMN, "group_by": "quarter"})
    assert [(row[0], row[7]) for row in quarters.rows] == [
        ("2026 Q4", D("3080.00")),
        ("2026 Q4", D("0.00")),
    ]
