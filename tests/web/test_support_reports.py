"""The support report: tickets per department and staff member, first response and resolution
against the SLA, ratings; shown under Reports and exported to CSV."""

import csv
import io
from datetime import timedelta

from flask import Flask

from portal.support import tickets
from portal.testing.factories import make_staff
from tests.fixtures.mail.desk import make_desk


def _scenario(clock):
    desk = make_desk(clock)
    anna = make_staff(clock, first_name="Анна", last_name="Быстрая")
    boris = make_staff(clock, first_name="Борис", last_name="Медленный")
    start = clock.now()
    fast = tickets.open_ticket(
        subject="Быстрый", body="?", client=desk.client, department_id=desk.support.id
    )
    slow = tickets.open_ticket(
        subject="Медленный", body="?", client=desk.client, department_id=desk.sales.id
    )
    tickets.open_ticket(
        subject="Без ответа", body="?", client=desk.client, department_id=desk.support.id
    )
    clock.set(start + timedelta(minutes=30))
    tickets.staff_reply(fast, anna, "Ответ")
    clock.set(start + timedelta(hours=3))
    tickets.staff_reply(slow, boris, "Поздний ответ")
    tickets.update_ticket(fast, anna, {"status": "closed"})
    tickets.rate(fast, 5)
    clock.set(start + timedelta(days=2))
    tickets.update_ticket(slow, boris, {"status": "closed"})
    tickets.rate(slow, 2)
    return desk


def test_report_page_and_csv(app: Flask, clock, staff_web) -> None:
    _scenario(clock)
    page = staff_web.get("/admin/support/reports?since=2026-11-01&until=2026-11-30")
    text = page.get_data(as_text=True)
    departments = text.split('id="report-departments"')[1].split("</table>")[0]
    support_row = departments.split("Техподдержка")[1].split("</tr>")[0]
    cells = [c.split("<")[0] for c in support_row.split("<td>")[1:]]
    assert cells == ["2", "1", "1", "0:30", "100.0", "3:00", "100.0", "5.0", "1"]
    sales_row = departments.split("Продажи")[1].split("</tr>")[0]
    cells = [c.split("<")[0] for c in sales_row.split("<td>")[1:]]
    assert cells == ["1", "1", "1", "3:00", "0.0", "48:00", "0.0", "2.0", "1"]
    staff = text.split('id="report-staff"')[1].split("</table>")[0]
    assert "Анна Быстрая" in staff and "Борис Медленный" in staff

    export = staff_web.get("/admin/support/reports?since=2026-11-01&until=2026-11-30&format=csv")
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Section", "Name", "Tickets"]
    total = next(row for row in rows if row[0] == "Total")
    assert total[2:5] == ["3", "2", "2"] and total[9] == "3.5"
    anna = next(row for row in rows if row[1] == "Анна Быстрая")
    assert anna[0] == "Staff member" and anna[4] == "1" and anna[6] == "100.0"


def test_period_excludes_other_tickets(app: Flask, clock, staff_web) -> None:
    _scenario(clock)
    page = staff_web.get("/admin/support/reports?since=2026-10-01&until=2026-10-31")
    assert "No tickets in this period." in page.get_data(as_text=True)
