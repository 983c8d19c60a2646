"""The telephony pages through the web: a client picks a free number (search by digits and
category, reserve, confirm onto the PBX), sees the seats with the core's change link, releases
a number; another client's number is a 404, a form without its CSRF token a 400. Staff import
numbers on the pool page, filter the list, read a number's history and release it; the client
card's "Calls" tab; add-ons only with the plans that may buy them (validate_order)."""

from __future__ import annotations

from datetime import date

import pytest
from portal_telephony import demo, numbers
from portal_telephony.models import PhoneNumber

from portal.plugin_api import session
from portal.testing import actions
from portal.testing.factories import PASSWORD, make_client, make_staff


@pytest.fixture
def browser(app, customer):
    web = app.test_client()
    web.sign_in_client(customer.email, PASSWORD)
    return web


@pytest.fixture
def staff_browser(app, clock):
    staff = make_staff(clock, email="pbx-admin@example.com")
    web = app.test_client()
    web.sign_in_staff(staff.email)
    return web


def test_a_client_picks_a_number_and_connects_it(browser, plan, pool) -> None:
    page = browser.get("/telephony/").get_data(as_text=True)
    assert demo.DEPARTMENT in page and ">8<" in page  # 6 included + 2 seats
    assert f'href="/services/{plan.id}/change"' in page  # seats: the core's change page

    found = browser.get("/telephony/numbers/search?digits=777&category=").get_data(as_text=True)
    assert "+74957777777" in found and "50" in found  # platinum, its connection fee
    assert "+74957001005" not in found
    gold = browser.get("/telephony/numbers/search?category=gold").get_data(as_text=True)
    assert "+74957002233" in gold and "+74957777777" not in gold

    number_id = pool["74957777777"]
    reserved = browser.submit(
        f"/telephony/numbers/{number_id}/reserve", {}, form_page="/telephony/numbers/search"
    )
    assert reserved.status_code == 302 and reserved.location.endswith(f"/{number_id}/confirm")
    confirm = browser.get(f"/telephony/numbers/{number_id}/confirm").get_data(as_text=True)
    assert "Платиновый" in confirm or "Platinum" in confirm
    done = browser.submit(
        f"/telephony/numbers/{number_id}/confirm", {"service_id": plan.id, "extension": "105"}
    )
    assert done.status_code == 302
    number = session().get(PhoneNumber, number_id)
    session().refresh(number)
    assert (number.state, number.service_id, number.extension) == ("assigned", plan.id, "105")
    assert "+74957777777" in browser.get("/telephony/").get_data(as_text=True)


def test_another_clients_number_is_not_found_and_forms_need_csrf(
    app, clock, browser, plan, pool
) -> None:
    rival = make_client(clock, email="rival@example.com")
    numbers.reserve(pool["74957001003"], rival, actor="client")
    assert browser.get(f"/telephony/numbers/{pool['74957001003']}/confirm").status_code == 404
    released = browser.submit(
        f"/telephony/numbers/{pool['74957001003']}/release", {}, form_page="/telephony/"
    )
    assert released.status_code == 404
    assert browser.post(f"/telephony/numbers/{pool['74957001004']}/reserve").status_code == 400
    assert session().get(PhoneNumber, pool["74957001004"]).state == "free"


def test_the_client_releases_a_number(browser, plan, pool) -> None:
    numbers.assign(pool["74957001002"], plan, actor="staff")
    response = browser.submit(
        f"/telephony/numbers/{pool['74957001002']}/release", {}, form_page="/telephony/"
    )
    assert response.status_code == 302
    number = session().get(PhoneNumber, pool["74957001002"])
    session().refresh(number)
    assert number.state == "quarantine"


def test_the_balance_page_and_the_dashboard_panel(browser, plan) -> None:
    assert 'id="telephony-balance"' in browser.get("/telephony/balance").get_data(as_text=True)
    dashboard = browser.get("/").get_data(as_text=True)
    assert 'href="/telephony/"' in dashboard and 'href="/telephony/balance"' in dashboard


def test_staff_import_filter_history_and_release(staff_browser, customer, plan, pool) -> None:
    done = staff_browser.submit(
        "/admin/telephony/numbers/import",
        {"numbers": "74959990000..74959990009\nnot a number"},
        form_page="/admin/telephony/numbers",
    )
    assert done.status_code == 302
    assert len(numbers.search(digits="7495999", limit=None)) == 10
    listed = staff_browser.get("/admin/telephony/numbers?digits=7495999000&state=free&category=")
    assert "+74959990000" in listed.get_data(as_text=True)

    numbers.assign(pool["74957001001"], plan, actor="client")
    page = staff_browser.get(f"/admin/telephony/numbers/{pool['74957001001']}").get_data(
        as_text=True
    )
    assert customer.email in page or str(customer.id) in page
    released = staff_browser.submit(
        f"/admin/telephony/numbers/{pool['74957001001']}/release",
        {},
        form_page=f"/admin/telephony/numbers/{pool['74957001001']}",
    )
    assert released.status_code == 302
    assert session().get(PhoneNumber, pool["74957001001"]).state == "quarantine"
    history = numbers.history(session().get(PhoneNumber, pool["74957001001"]))
    assert history[0].actor == "pbx-admin@example.com"


def test_support_staff_see_the_pool_but_cannot_import(app, clock, pool) -> None:
    staff = make_staff(clock, role="support", email="support@example.com")
    web = app.test_client()
    web.sign_in_staff(staff.email)
    assert web.get("/admin/telephony/numbers").status_code == 200
    refused = web.submit(
        "/admin/telephony/numbers/import",
        {"numbers": "74950000001"},
        form_page="/admin/telephony/numbers",
    )
    assert refused.status_code == 403


def test_the_client_card_tab(staff_browser, customer, plan, pool) -> None:
    numbers.assign(pool["74957002233"], plan, actor="staff")
    tab = staff_browser.get(f"/admin/clients/{customer.id}/tab/telephony").get_data(as_text=True)
    assert "+74957002233" in tab and demo.DEPARTMENT in tab


def test_an_addon_only_with_a_plan_that_may_buy_it(app, clock, customer, catalogue, plan) -> None:
    office_recording = catalogue[demo.RECORDING_OFFICE]
    with pytest.raises(Exception, match="«Офис»"):
        actions.order_and_accept(customer, office_recording, today=date(2026, 3, 2))
    service, _invoice = actions.order_and_accept(
        customer, catalogue[demo.RECORDING_DEPARTMENT], today=date(2026, 3, 10)
    )
    assert service.next_due_date == plan.next_due_date  # co-terminated with the plan
    loner = make_client(clock, email="loner@example.com")
    with pytest.raises(Exception, match="only with"):
        actions.order_and_accept(
            loner, catalogue[demo.RECORDING_DEPARTMENT], today=date(2026, 3, 2)
        )
