"""Three months driven by the clock: a plan with seats, a number and postpaid calls on the
renewal invoices (one line per destination group), a prepaid client debited as calls are
imported, and the call detail report of a renewal invoice as CSV and PDF whose totals are the
invoice's call lines. Every figure is computed by hand in the comments."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

from conftest import set_day
from invoice_helpers import lines_of, renewal
from portal_telephony import call_detail, demo, numbers, tariff_admin
from portal_telephony.cdr_import import import_file
from pypdf import PdfReader
from rating_fixtures import make_line, make_tariff, master_row, write_master

from portal.plugin_api import (
    add_credit,
    credit_balance,
    record_payment,
)
from portal.testing import actions
from portal.testing.factories import PASSWORD

D = Decimal
NUMBER = "74957001005"


def calls(tmp_path, name: str, rows: list[str]) -> None:
    import_file(write_master(tmp_path / name, rows), source="pbx")


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_three_months_of_plan_numbers_and_calls(app, clock, customer, catalogue, pool, tmp_path):
    set_day(clock, date(2026, 3, 1))
    make_tariff()  # Moscow 1.00/min, mobile 2.00/min, 60/60, free under 3 s
    tariff_admin.save_terms(customer.id, prepaid=False)  # postpaid, coefficients 1
    product = catalogue[demo.DEPARTMENT]
    plan, first = actions.order_and_accept(
        customer, product, options={product.options[0].id: 2}, today=date(2026, 3, 1)
    )
    assert first.total == D("2600.00")  # 2 000 + 2 x 300
    record_payment(customer, amount=first.total, method="bank", reference="m", invoices=[first])
    set_day(clock, date(2026, 3, 5))
    numbers.assign(pool[NUMBER], plan, actor="client", extension="101")

    # a prepaid client in the same import: 61 s to Moscow = 2 min x 1.00 = 2.00 debited
    prepaid = make_line(clock, prepaid=True, email="prepaid@example.com")
    add_credit(prepaid.client, D("100.00"), description="top-up")

    calls(
        tmp_path,
        "march.csv",
        [
            master_row(
                "m1", src=NUMBER, dst="84951234567", start=at(date(2026, 3, 10)), billsec=61
            ),
            master_row(
                "m2", src=NUMBER, dst="89161234567", start=at(date(2026, 3, 11)), billsec=30
            ),
            master_row(
                "m3", src=NUMBER, dst="89031234567", start=at(date(2026, 3, 31), 20), billsec=125
            ),
            master_row("m4", src=NUMBER, dst="84951234567", start=at(date(2026, 3, 12)), billsec=2),
            master_row("p1", dst="84951234567", start=at(date(2026, 3, 12)), billsec=61),
        ],
    )
    assert credit_balance(prepaid.client) == D("98.00")

    set_day(clock, date(2026, 4, 1))
    april = renewal(customer, date(2026, 4, 1))
    amounts = lines_of(april)
    assert amounts[0][1] == D("2600.00")  # the plan for April, in advance
    texts = {text: amount for text, amount in amounts}
    # March in arrears: connection 2 200 + monthly 970; calls local 2 min x 1.00 = 2.00 (and
    # the 2-second call free); mobile 1 min x 2.00 + 3 min x 2.00 = 8.00
    call_lines = sorted(amount for text, amount in texts.items() if text.startswith("Calls"))
    assert call_lines == [D("2.00"), D("8.00")]
    assert april.total == D("2600.00") + D("2200.00") + D("970.00") + D("2.00") + D("8.00")
    assert any("local, 2 calls, 2 min (01.03.2026 - 31.03.2026)" in text for text in texts)
    assert any("mobile, 2 calls, 4 min" in text for text in texts)

    detail = call_detail.invoice_detail(april)
    # the 2-second call is free but listed (its cost 0.00), as on the invoice line's count
    assert [c.dst for c in detail.calls] == [
        "84951234567",
        "89161234567",
        "84951234567",
        "89031234567",
    ]
    assert [c.cost for c in detail.calls] == [D("2.00"), D("2.00"), D("0.00"), D("6.00")]
    assert detail.total == sum(call_lines) == D("10.00")
    rows = list(csv.reader(io.StringIO(call_detail.detail_csv(detail).decode("utf-8-sig"))))
    assert sum(D(r[-1]) for r in rows[1:-1]) == D(rows[-1][-1]) == D("10.00")

    web = app.test_client()
    web.sign_in_client(customer.email, PASSWORD)
    pdf_link = f"/invoices/{april.id}/attachments/calls.pdf"  # the core's, through the hook
    invoice_page = web.get(f"/invoices/{april.id}").get_data(as_text=True)
    assert f'href="{pdf_link}"' in invoice_page
    assert f'href="/invoices/{april.id}/attachments/calls.csv"' in invoice_page
    pdf = web.get(pdf_link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "84951234567" in text and "89161234567" in text and "89031234567" in text
    assert "10,00" in text or "10.00" in text
    assert "Детализация звонков" in text or "Call detail report" in text
    csv_file = web.get(f"/invoices/{april.id}/attachments/calls.csv")
    assert csv_file.status_code == 200 and csv_file.mimetype == "text/csv"
    assert csv_file.data == call_detail.detail_csv(detail)
    page = web.get("/telephony/calls/").get_data(as_text=True)
    assert pdf_link in page
    record_payment(customer, amount=april.total, method="bank", reference="a", invoices=[april])

    # April: 600 s to Moscow = 10 min x 1.00 = 10.00
    calls(
        tmp_path,
        "april.csv",
        [master_row("a1", src=NUMBER, start=at(date(2026, 4, 20)), billsec=600)],
    )
    set_day(clock, date(2026, 5, 1))
    may = renewal(customer, date(2026, 5, 1))
    assert may.total == D("2600.00") + D("970.00") + D("10.00")
    assert call_detail.invoice_detail(may).total == D("10.00")
    record_payment(customer, amount=may.total, method="bank", reference="b", invoices=[may])

    # May: no calls; June carries the plan and the number only
    set_day(clock, date(2026, 6, 1))
    june = renewal(customer, date(2026, 6, 1))
    assert june.total == D("2600.00") + D("970.00")
    assert call_detail.invoice_detail(june).calls == []
    # no calls billed: no report on the invoice page, none to download, none on the calls page
    assert "invoice-attachments" not in web.get(f"/invoices/{june.id}").get_data(as_text=True)
    assert web.get(f"/invoices/{june.id}/attachments/calls.pdf").status_code == 404
    assert f"/invoices/{june.id}/attachments" not in web.get("/telephony/calls/").get_data(
        as_text=True
    )
    other = make_line(clock, prepaid=False, email="stranger@example.com", number="74951119999")
    stranger = app.test_client()
    stranger.sign_in_client(other.client.email, PASSWORD)
    assert stranger.get(pdf_link).status_code == 404


def test_a_quarter_of_a_quarterly_plan_with_included_minutes_numbers_and_calls(
    app, clock, customer, quarterly, pool, tmp_path
) -> None:
    """A quarterly plan from 15 March (its months start on the 15th, Moscow time) with 5 local
    minutes a month: the calls draw on each month's package, and the renewal on 15 June
    carries, in arrears, the number's connection and three monthly fees and the calls."""
    set_day(clock, date(2026, 3, 15))
    make_tariff()  # Moscow 1.00/min, mobile 2.00/min, 60/60, free under 3 s
    tariff_admin.save_terms(customer.id, prepaid=False)
    tariff_admin.add_package(quarterly.id, 5, "local")
    plan, first = actions.order_and_accept(
        customer,
        quarterly,
        cycle="quarterly",
        options={quarterly.options[0].id: 2},
        today=date(2026, 3, 15),
    )
    assert first is not None and first.total == D("7800.00")  # 6 000 + 2 x 900
    record_payment(customer, amount=first.total, method="bank", reference="q", invoices=[first])
    set_day(clock, date(2026, 3, 16))
    numbers.assign(pool[NUMBER], plan, actor="client", extension="101")

    local, mobile = "84951234567", "89161234567"
    calls(
        tmp_path,
        "march.csv",
        [master_row("q1", src=NUMBER, dst=local, start=at(date(2026, 3, 20)), billsec=240)],
    )
    set_day(clock, date(2026, 4, 16))
    calls(
        tmp_path,
        "april.csv",
        [
            # 23:30 in Moscow on 14 April: the first month, 1 minute left of its 5
            master_row("q2", src=NUMBER, dst=local, start=at(date(2026, 4, 14), 20), billsec=180),
            # 00:30 in Moscow on 15 April: the second month, a fresh package
            master_row("q3", src=NUMBER, dst=local, start=at(date(2026, 4, 14), 21), billsec=300),
        ],
    )
    set_day(clock, date(2026, 5, 21))
    calls(
        tmp_path,
        "may.csv",
        [
            # 1 May: still the second month (15 April - 15 May), its package used up
            master_row("q4", src=NUMBER, dst=local, start=at(date(2026, 5, 1)), billsec=120),
            master_row("q5", src=NUMBER, dst=local, start=at(date(2026, 5, 20)), billsec=60),
            master_row("q6", src=NUMBER, dst=mobile, start=at(date(2026, 5, 21)), billsec=61),
        ],
    )

    set_day(clock, date(2026, 6, 15))
    june = renewal(customer, date(2026, 6, 15))
    amounts = lines_of(june)
    assert amounts[0][1] == D("7800.00")  # the next quarter, in advance
    texts = dict(amounts)
    number_fees = sorted(amount for text, amount in texts.items() if NUMBER in text)
    # connection 2 200 once; monthly 970 for each of the quarter's three months = 2 910
    assert number_fees == [D("2200.00"), D("2910.00")]
    # local: q1 4 min included; q2 1 included + 2 paid = 2.00; q3 5 included; q4 2 paid = 2.00;
    # q5 1 included (the third month); mobile q6 2 min x 2.00 = 4.00 (the package is local)
    call_lines = sorted(amount for text, amount in texts.items() if text.startswith("Calls"))
    assert call_lines == [D("4.00"), D("4.00")]
    assert any("local, 5 calls, 15 min (15.03.2026 - 14.06.2026)" in text for text in texts)
    assert june.total == D("7800.00") + D("2200.00") + D("2910.00") + D("4.00") + D("4.00")
    detail = call_detail.invoice_detail(june)
    costs = [D("0.00"), D("2.00"), D("0.00"), D("2.00"), D("0.00"), D("4.00")]
    assert [c.cost for c in detail.calls] == costs
    assert [c.included_seconds for c in detail.calls] == [240, 60, 300, 0, 60, 0]
