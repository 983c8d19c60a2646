"""The debtors, sales and support reports as staff open them: each renders its hand-computed
figures (read back from the CSV and XLSX exports), links to the client card, and answers 403
to a staff member without ``reports.view``."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from openpyxl import load_workbook

from portal.core.extensions import db
from portal.orders.models import Service, ServiceStatus
from portal.support import tickets
from portal.testing.factories import make_staff
from tests.fixtures.debtors import make_ledger
from tests.fixtures.mail.desk import make_desk
from tests.fixtures.sales import make_orders, payment

REPORTS = ("debtors", "sales", "promotions", "top_clients", "income_forecast", "support")


def _csv(web, url: str) -> list[list[str]]:
    response = web.get(url + "&format=csv")
    assert response.status_code == 200, url
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_debtors_by_client_manager_and_month(app: Flask, clock, staff_web) -> None:
    ledger = make_ledger(clock)
    url = "/admin/reports/debtors?as_of=2026-11-02&currency=RUB&group_by=client"
    html = staff_web.get(url).get_data(as_text=True)
    assert f'href="/admin/clients/{ledger["beta"].id}"' in html  # the client card
    assert "<svg" in html.split('id="report-table"')[0]  # the aging chart
    rows = _csv(staff_web, url)
    assert rows[1:] == [
        ["ООО «Бета»", "3", "0.00", "50.00", "0.00", "3060.00", "0.00", "3110.00", "0.00", ""],
        ["ООО «Альфа»", "2", "0.00", "1000.00", "1500.00", "0.00", "0.00", "2500.00", "300.00",
         "5000.00"],
        ["Гамма Гаммова", "2", "700.00", "0.00", "0.00", "0.00", "400.00", "1100.00", "0.00", ""],
        ["", "7", "700.00", "1050.00", "1500.00", "3060.00", "400.00", "6710.00", "", ""],
    ]  # fmt: skip
    managers = _csv(staff_web, url.replace("group_by=client", "group_by=manager"))
    assert [(r[0], r[7]) for r in managers[1:]] == [
        ("Анна Альфа", "2500.00"),
        ("Борис Бета", "3110.00"),
        ("No manager", "1100.00"),
        ("", "6710.00"),
    ]
    months = _csv(staff_web, url.replace("group_by=client", "group_by=month"))
    assert [(r[0], r[1], r[7]) for r in months[1:]] == [
        ("2026-06", "1", "400.00"),
        ("2026-07", "1", "60.00"),
        ("2026-08", "1", "3000.00"),
        ("2026-09", "2", "1550.00"),
        ("2026-10", "2", "1700.00"),
        ("", "7", "6710.00"),
    ]
    workbook = staff_web.get(url.replace("group_by=client", "group_by=month") + "&format=xlsx")
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0] == datetime(2026, 6, 1) and values[1][7] == 400  # dates and numbers


def test_sales_reports(app: Flask, clock, staff_web) -> None:
    made = make_orders(clock)  # leaves the clock on 2 November 2026
    payment(made["first"], date(2026, 11, 2), "4050")
    payment(made["october"], date(2026, 10, 11), "2500")
    db.session.add(
        Service(
            client_id=made["october"].id,
            product_id=made["catalogue"]["Виртуальная АТС «Офис»"].id,
            status=ServiceStatus.ACTIVE,
            cycle="quarterly",
            currency="RUB",
            registration_date=date(2026, 10, 1),
            next_due_date=date(2026, 12, 1),
            recurring_amount=1000,
            created_at=clock.now(),
        )
    )
    db.session.commit()
    period = "since=2026-10-01&until=2026-11-30"
    assert _csv(staff_web, f"/admin/reports/sales?{period}")[1:] == [
        ["2026-10", "1", "1", "1"],
        ["2026-11", "2", "2", "1"],
        ["", "3", "3", "2"],
    ]
    assert _csv(staff_web, f"/admin/reports/promotions?{period}&currency=RUB")[1] == [
        "SAVE10",
        "Минус 10 %",
        "1",
        "450.00",
    ]
    top = staff_web.get(f"/admin/reports/top_clients?{period}&currency=RUB")
    assert f'href="/admin/clients/{made["first"].id}"' in top.get_data(as_text=True)
    assert [r[1:] for r in _csv(staff_web, f"/admin/reports/top_clients?{period}&currency=RUB")][
        1:
    ] == [["Первый", "1", "4050.00"], ["Октябрь", "1", "2500.00"]]
    # Monthly renewals: the department PBX (2 000, ordered 10 October: due from November) and
    # the office PBX (4 500, the promo on its first invoice only: due from December); the
    # quarterly 1 000 due in December (next in March, after the four months).
    assert _csv(staff_web, "/admin/reports/income_forecast?currency=RUB&months=4")[1:] == [
        ["2026-11", "2000.00"],
        ["2026-12", "7500.00"],
        ["2027-01", "6500.00"],
        ["2027-02", "6500.00"],
        ["", "22500.00"],
    ]


def test_support_report_and_the_old_address(app: Flask, clock, staff_web) -> None:
    desk = make_desk(clock)
    anna = make_staff(clock, first_name="Анна", last_name="Быстрая")
    start = clock.now()
    ticket = tickets.open_ticket(
        subject="Вопрос", body="?", client=desk.client, department_id=desk.support.id
    )
    clock.set(start + timedelta(minutes=30))
    tickets.staff_reply(ticket, anna, "Ответ")
    tickets.update_ticket(ticket, anna, {"status": "closed"})
    tickets.rate(ticket, 4)
    period = "since=2026-11-01&until=2026-11-30"
    rows = _csv(staff_web, f"/admin/reports/support?{period}&group_by=department")
    assert rows[1] == ["Техподдержка", "1", "1", "1", "30", "100.00", "30", "100.00", "4.00", "1"]
    staff = _csv(staff_web, f"/admin/reports/support?{period}&group_by=staff")
    assert staff[1][0] == "Анна Быстрая"
    old = staff_web.get(f"/admin/support/reports?{period}")
    assert old.status_code == 302
    assert old.headers["Location"].endswith(f"/admin/reports/support?{period}")


@pytest.mark.parametrize("name", REPORTS)
def test_each_report_needs_reports_view(app: Flask, clock, staff_web, name) -> None:
    make_ledger(clock)
    assert staff_web.get(f"/admin/reports/{name}").status_code == 200
    support = app.test_client()
    support.sign_in_staff(make_staff(clock, role="support").email)
    for output in ("", "?format=csv", "?format=xlsx"):
        assert support.get(f"/admin/reports/{name}{output}").status_code == 403
    menu = staff_web.get("/admin/").get_data(as_text=True)
    assert f'href="/admin/reports/{name}"' in menu


def test_the_dashboard_shows_debtors_and_tickets_past_sla(app: Flask, clock, staff_web) -> None:
    make_ledger(clock)  # 6 710.00 roubles and 100.00 euros owed on 2 November
    desk = make_desk(clock)
    tickets.open_ticket(subject="?", body="?", client=desk.client, department_id=desk.support.id)
    clock.advance(timedelta(hours=3))  # its answer was due in 2 hours
    html = staff_web.get("/admin/reports/").get_data(as_text=True)
    owed = html.split('id="figure-debtors"')[1].split('id="figure-')[0]
    digits = "".join(ch for ch in owed if ch.isdigit() or ch == ".")
    assert "6710.00" in digits and "100.00" in digits
    late = html.split('id="figure-tickets_past_sla"')[1].split("</div>\n  </div>")[0]
    assert '<div class="figure-value">1</div>' in late
