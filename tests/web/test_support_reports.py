"""The support report (Reports → Support): tickets per department and staff member, first
response and resolution against the SLA, ratings; exported to CSV."""

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


def _csv(web, url: str) -> list[list[str]]:
    response = web.get(url + "&format=csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_report_page_and_csv(app: Flask, clock, staff_web) -> None:
    _scenario(clock)
    url = "/admin/reports/support?since=2026-11-01&until=2026-11-30"
    page = staff_web.get(url).get_data(as_text=True)
    assert "Техподдержка" in page and "Продажи" in page and "<svg" in page  # ratings chart
    rows = _csv(staff_web, url)
    assert rows[0][:3] == ["Department", "Tickets", "Closed"]
    # Support: answered in 30 min (due in 2 h), closed after 3 h (due in 24 h), rated 5; the
    # other ticket unanswered. Sales: answered after 3 h, closed after 48 h, both late, rated 2.
    assert rows[1:] == [
        ["Продажи", "1", "1", "1", "180", "0.00", "2880", "0.00", "2.00", "1"],
        ["Техподдержка", "2", "1", "1", "30", "100.00", "180", "100.00", "5.00", "1"],
        ["", "3", "2", "2", "105", "50.00", "1530", "50.00", "3.50", "2"],
    ]
    staff = _csv(staff_web, url + "&group_by=staff")
    assert [row[:4] for row in staff[1:3]] == [
        ["Анна Быстрая", "1", "1", "1"],
        ["Борис Медленный", "1", "1", "1"],
    ]


def test_period_excludes_other_tickets(app: Flask, clock, staff_web) -> None:
    _scenario(clock)
    page = staff_web.get("/admin/reports/support?since=2026-10-01&until=2026-10-31")
    assert "Nothing to show for these filters." in page.get_data(as_text=True)
