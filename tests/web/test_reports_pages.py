"""The reports' pages as staff use them: the owners' dashboard, a report with its filters,
totals, CSV and XLSX downloads and the printable page; permissions; the Reports menu."""

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest
from flask import Flask
from openpyxl import load_workbook

from portal import billing
from portal.support import tickets
from portal.testing.factories import make_staff
from tests.fixtures.income import VAT22, issued, make_book, make_service
from tests.fixtures.mail.desk import make_desk

AUTUMN = "since=2026-10-01&until=2026-11-30&currency=RUB"


@pytest.fixture
def book(app: Flask, clock):
    return make_book(clock)  # leaves the clock on 5 November 2026


def _digits(html: str) -> str:
    """The page's text without the (English) group separators: "6,780.00" -> "6780.00"."""
    return re.sub(r"[\s\u00a0\u202f,]", "", html)


def _section(html: str, element_id: str) -> str:
    return html.split(f'id="{element_id}"', 1)[1]


def _figure(html: str, key: str) -> str:
    return _digits(_section(html, f"figure-{key}").split('class="col-md-3"')[0])


def test_the_dashboard_shows_the_owners_numbers_and_charts(book, clock, staff_web) -> None:
    # a service from 3 November (MRR +600), an unpaid invoice, a ticket unanswered for 3 hours
    make_service(clock, book.lyutik, book.hosting, date(2026, 11, 3), "600.00")
    line = billing.charge_line("Хостинг", D("2000.00"), "RUB", line_tax=VAT22)
    issued(book.lyutik, date(2026, 11, 4), (line, None))  # 2 440 owed
    desk = make_desk(clock)
    tickets.open_ticket(subject="Не работает", body="?", client=desk.client,
                        department_id=desk.support.id)  # fmt: skip
    clock.advance(timedelta(hours=3))

    page = staff_web.get("/admin/reports/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "6780.00" in _figure(html, "income")  # 8 000 received − 1 220 refunded in November
    mrr = _figure(html, "mrr")
    assert "RUB4800.00" in mrr and "+RUB600.00" in mrr  # 1 200 + 3 000 + 600; +600 since October
    assert "RUB2440.00" in _figure(html, "debtors")
    assert 'figure-value">1<' in _figure(html, "tickets_past_sla")
    charts = _section(html, "dashboard-charts")
    assert charts.count("<svg") == 2 and "<rect" in charts and "<polyline" in charts
    assert 'id="reports"' in html and "/admin/reports/income" in html
    assert "style=" not in html  # the strict CSP allows no inline styles


def test_a_staff_member_without_reports_view_gets_403(app: Flask, clock, book) -> None:
    support = app.test_client()
    support.sign_in_staff(make_staff(clock, role="support").email)
    for url in (
        "/admin/reports/",
        "/admin/reports/income",
        "/admin/reports/vat?format=xlsx",
        "/admin/reports/income?format=csv",
    ):
        assert support.get(url).status_code == 403, url
    menu = support.get("/admin/").get_data(as_text=True)
    assert "/admin/reports/income" not in menu


def test_the_reports_menu_lists_the_reports_for_who_may_see_them(book, staff_web) -> None:
    menu = _section(staff_web.get("/admin/").get_data(as_text=True), "admin-menu")
    for url in ("/admin/reports/", "/admin/reports/income", "/admin/reports/vat"):
        assert f'href="{url}"' in menu, url


def test_filters_grouping_and_totals(book, staff_web) -> None:
    html = staff_web.get(f"/admin/reports/income?group_by=method&{AUTUMN}").get_data(as_text=True)
    table = _section(html, "report-table")
    rows = table.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert [row.split("<td")[1].split(">", 1)[1].split("<")[0] for row in rows] == ["bank", "card"]
    totals = _digits(_section(html, "report-totals").split("</tr>")[0])
    assert "20200.00" in totals and "18980.00" in totals and "-RUB1220.00" in totals
    assert 'class="text-end text-nowrap text-danger"' in table  # the refund, negative
    assert "style=" not in html

    wrong = staff_web.get("/admin/reports/income?since=2026-11-30&until=2026-10-01")
    text = wrong.get_data(as_text=True)
    assert wrong.status_code == 200 and 'id="report-table"' not in text
    assert "invalid-feedback" in text


def test_a_period_preset_sets_the_dates(book, staff_web) -> None:
    html = staff_web.get("/admin/reports/income?period=last_month&currency=RUB").get_data(
        as_text=True
    )
    assert 'value="2026-10-01"' in html and 'value="2026-10-31"' in html
    table = _digits(_section(html, "report-table").split("</table>")[0])
    assert "12200.00" in table and "8000.00" not in table


def test_csv_export_numbers_with_dots_and_iso_dates(book, staff_web) -> None:
    response = staff_web.get(f"/admin/reports/income?group_by=month&{AUTUMN}&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "income-2026-11-05.csv" in disposition
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[1] == ["2026-10", "12200.00", "0.00", "12200.00", "2200.00", "10000.00", "0.00"]
    assert rows[2] == ["2026-11", "8000.00", "-1220.00", "6780.00", "880.00", "5900.00", "-1220.00"]
    assert rows[3] == ["", "20200.00", "-1220.00", "18980.00", "3080.00", "15900.00", "-1220.00"]


def test_xlsx_export_has_numbers_and_dates(book, staff_web) -> None:
    response = staff_web.get(f"/admin/reports/income?group_by=day&{AUTUMN}&format=xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "income-2026-11-05.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 61 + 1  # header, every day of the period, totals
    paid = next(row for row in rows[1:] if row[1])
    assert paid[0] == datetime(2026, 10, 12) and isinstance(paid[0], datetime)
    assert paid[1] == 12200 and isinstance(paid[1], int | float)
    cell = sheet.cell(row=rows.index(paid) + 1, column=2)
    assert cell.number_format == "#,##0.00" and cell.data_type == "n"
    assert rows[-1][3] == 18980 and sheet.cell(row=len(rows), column=4).font.bold
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["B"].width >= 14
    vat = load_workbook(
        io.BytesIO(staff_web.get(f"/admin/reports/vat?{AUTUMN}&format=xlsx").data)
    ).active
    rate = vat.cell(row=2, column=2)
    assert rate.value == 0.22 and rate.number_format == "0.0%"
    assert vat.cell(row=2, column=1).value == datetime(2026, 10, 1)


def test_the_printable_page_has_no_shell(book, staff_web) -> None:
    page = staff_web.get(f"/admin/reports/vat?{AUTUMN}&format=print")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="admin-menu"' not in html and 'id="report-filters"' not in html
    assert 'id="report-table"' in html and "data-print" in html
    assert "01.10.2026" in html or "2026-10-01" in html or "10/1/26" in html  # the period


def test_plugin_style_plain_columns_still_render(app: Flask, staff_web) -> None:
    from portal.platform.reports import Column, ReportResult

    result = ReportResult(["Name", Column("Count", "number")], [["a", 1200]], totals=None)
    assert [c.kind for c in result.columns] == ["text", "number"]
    with app.test_request_context():
        assert str(result.display(0, result.rows[0])) == "a"


@pytest.mark.parametrize("name", ["income", "vat"])
def test_every_grouping_and_format_answers(book, staff_web, name) -> None:
    groupings = ["day", "month", "year", "method", "product", "product_group", "quarter"]
    for grouping in groupings:
        for output in ("", "csv", "xlsx", "print"):
            url = f"/admin/reports/{name}?{AUTUMN}&group_by={grouping}&format={output}"
            response = staff_web.get(url)
            assert response.status_code == 200, url
