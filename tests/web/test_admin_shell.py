"""The admin shell: menu, dashboard counters, staff online, client list, CSV export."""

import csv
import io
from datetime import timedelta

from flask import Flask

from portal.testing.factories import make_client, make_staff
from portal.web.menu import ADMIN_SECTIONS


def test_menu_has_the_sections_staff_know(staff_web) -> None:
    page = staff_web.get("/admin/").get_data(as_text=True)
    for title in (
        "Clients",
        "Orders",
        "Billing",
        "Support",
        "Reports",
        "Utilities",
        "Plugins",
        "Settings",
    ):
        assert f">{title}</a>" in page
    for section in ADMIN_SECTIONS:
        assert staff_web.get(f"/admin/section/{section}").status_code == 200
    assert staff_web.get("/admin/section/nonsense").status_code == 404


def test_dashboard_counters_are_shown_without_invented_numbers(staff_web) -> None:
    page = staff_web.get("/admin/").get_data(as_text=True)
    for key in (
        "pending_orders",
        "overdue_invoices",
        "tickets_awaiting_reply",
        "services_due",
        "todo_due",
    ):
        assert f'data-counter="{key}"' in page


def test_staff_online(app: Flask, staff_web, staff_member, clock) -> None:
    away = make_staff(clock, first_name="Далеко")
    other = app.test_client()
    other.sign_in_staff(away.email)
    other.get("/admin/")
    clock.advance(timedelta(minutes=10))
    page = staff_web.get("/admin/").get_data(as_text=True)
    online = page.split('id="staff-online"')[1].split("</ul>")[0]
    assert staff_member.first_name in online
    assert "Далеко" not in online


def test_client_list_search_pagination_and_csv(app: Flask, staff_web, clock) -> None:
    for n in range(55):
        make_client(clock, first_name=f"Имя{n:02}", company="ООО «Ромашка»" if n == 7 else "")
    page = staff_web.get("/admin/clients").get_data(as_text=True)
    assert "55 in total" in page and "page=2" in page
    found = staff_web.get("/admin/clients?q=ромашка").get_data(as_text=True)
    assert "Имя07" in found and "1 in total" in found

    export = staff_web.get("/admin/clients?q=ромашка&format=csv")
    assert export.mimetype == "text/csv"
    raw = export.data
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["ID", "Name", "Company"]
    assert rows[1][2] == "ООО «Ромашка»" and len(rows) == 2


def test_csv_cells_cannot_smuggle_formulas(app: Flask, staff_web, clock) -> None:
    make_client(clock, first_name='=HYPERLINK("http://evil")')
    rows = staff_web.get("/admin/clients?format=csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in rows
