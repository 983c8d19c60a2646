"""Orders and services in the admin area: the staff order form, accept/cancel/fraud, the
dashboard counters, the client card's services tab, the service page (edit, move), and the
upgrade popup, which answers any input with a preview or a message, never an error page."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from portal.accounts.models import AuditEntry
from portal.core.extensions import db
from portal.invoicing.models import Invoice
from portal.orders import orders
from portal.orders.models import Order, OrderKind, OrderStatus, Service, ServiceStatus
from portal.orders.orders import CartItem
from portal.platform import demo
from portal.testing.factories import make_client, make_staff

D = Decimal
TODAY = date(2026, 11, 2)


@pytest.fixture
def shop(app: Flask):
    products = demo.load_demo_catalogue()
    db.session.commit()
    return products


def owned_service(shop, client, count: int = 5) -> Service:
    product = shop[demo.USERS_PRODUCT]
    item = CartItem(product.id, "semi_annual", {product.options[0].id: count})
    order = orders.place_order(client, [item], today=TODAY)
    orders.accept_order(order, today=TODAY)
    return db.session.get(Service, order.items[0].service_id)


def test_staff_order_form_calculates_then_creates_and_accepts(
    shop, staff_web, client_account
) -> None:
    product = shop[demo.USERS_PRODUCT]
    option = product.options[0].id
    url = f"/admin/orders/new?client_id={client_account.id}&product_id={product.id}"
    page = staff_web.get(url).get_data(as_text=True)
    assert "Количество пользователей" in page and 'name="cycle"' in page
    data = {
        "client_id": client_account.id,
        "product_id": product.id,
        "cycle": "semi_annual",
        f"option-{option}": "3",
        "price_override": "",
        "generate_invoice": "y",
    }
    calculated = staff_web.submit(
        "/admin/orders/new", {**data, "action": "calculate"}, form_page=url
    )
    assert calculated.status_code == 200
    assert 'id="quote-total">RUB\xa017,568.00' in calculated.get_data(as_text=True)  # 14400 + 22 %
    bad = staff_web.submit(
        "/admin/orders/new",
        {**data, "price_override": "1.23456", "action": "create"},
        form_page=url,
    )
    assert "has more than 4 decimal places" in bad.get_data(as_text=True)
    created = staff_web.submit(
        "/admin/orders/new",
        {
            **data,
            "price_override": "12000",
            "accept_now": "y",
            "skip_email": "y",
            "action": "create",
        },
        form_page=url,
    )
    assert created.status_code == 302
    order = db.session.scalar(select(Order))
    assert order.status is OrderStatus.ACTIVE and order.skip_email
    service = db.session.scalar(select(Service))
    assert service.price_override == D("12000") and service.recurring_amount == D("12000")
    invoice = db.session.get(Invoice, order.invoice_id)
    assert invoice.total == D("14640.00")  # 12000 + 22 %
    page = staff_web.get(created.location).get_data(as_text=True)
    assert invoice.number in page
    again = staff_web.submit("/admin/orders/new", {**data, "action": "create"}, form_page=url)
    text = again.get_data(as_text=True)
    assert "You already have" in text and f"/admin/services/{service.id}/change" in text


def test_accept_cancel_and_fraud_from_the_order_page(
    shop, staff_web, client_account, clock
) -> None:
    product = shop[demo.DISK_PRODUCT]
    item = CartItem(product.id, "semi_annual", {product.options[0].id: 3})
    order = orders.place_order(client_account, [item], today=TODAY)
    dashboard = staff_web.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/orders/pending">1</a>' in dashboard
    assert f"/admin/orders/{order.id}" in staff_web.get("/admin/orders/pending").get_data(
        as_text=True
    )
    url = f"/admin/orders/{order.id}"
    accepted = staff_web.submit(f"{url}/accept", {"generate_invoice": "y"}, form_page=url)
    assert accepted.status_code == 302
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.ACTIVE and order.invoice_id and order.skip_email
    assert "Accept" not in staff_web.get(url).get_data(as_text=True).split("order-items")[1]
    other = make_client(clock, first_name="Второй")
    second = orders.place_order(other, [item], today=TODAY)
    staff_web.submit(
        f"/admin/orders/{second.id}/fraud",
        {"reason": "карта чужая"},
        form_page=f"/admin/orders/{second.id}",
    )
    db.session.expire_all()
    second = db.session.get(Order, second.id)
    assert second.status is OrderStatus.FRAUD and second.status_reason == "карта чужая"
    assert 'href="/admin/orders/pending">0</a>' in staff_web.get("/admin/").get_data(as_text=True)
    assert (
        staff_web.get("/admin/orders?status=fraud")
        .get_data(as_text=True)
        .count(f"/admin/orders/{second.id}")
        == 1
    )


def test_service_page_edit_move_and_the_client_tab(shop, staff_web, client_account, clock) -> None:
    service = owned_service(shop, client_account)
    tab = staff_web.get(f"/admin/clients/{client_account.id}/services").get_data(as_text=True)
    assert demo.USERS_PRODUCT in tab and f"/admin/services/{service.id}" in tab
    url = f"/admin/services/{service.id}"
    page = staff_web.get(url).get_data(as_text=True)
    assert "Количество пользователей: 5 x Пользователь" in page
    missing = staff_web.submit(
        url, {"status": "active", "terminate_at_period_end": "y", "next_due_date": "2027-05-02"}
    )
    assert "Give the reason for terminating the service." in missing.get_data(as_text=True)
    saved = staff_web.submit(
        url,
        {
            "status": "active",
            "terminate_at_period_end": "y",
            "termination_reason": "Переезд на другой тариф",
            "next_due_date": "2027-05-02",
            "admin_notes": "VIP",
            "no_suspend_until": "2026-12-01",
            "price_override": "",
        },
    )
    assert saved.status_code == 302
    db.session.expire_all()
    service = db.session.get(Service, service.id)
    assert service.terminate_at_period_end and service.admin_notes == "VIP"
    assert service.no_suspend_until == date(2026, 12, 1)
    other = make_client(clock, first_name="Получатель")
    moved = staff_web.submit(f"{url}/move", {"client_id": other.id}, form_page=url)
    assert moved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Service, service.id).client_id == other.id
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "service.move"))
    owned_service(shop, client_account, 1)
    back = staff_web.submit(f"{url}/move", {"client_id": client_account.id}, form_page=url)
    assert back.status_code == 302
    assert "already has" in staff_web.get(back.location).get_data(as_text=True)
    assert (
        staff_web.submit(f"{url}/move", {"client_id": "999999"}, form_page=url).status_code == 302
    )


@pytest.mark.parametrize(
    "query",
    [
        "cycle=semi_annual&option-{o}=6",
        "cycle=semi_annual&option-{o}=-1",
        "cycle=semi_annual&option-{o}=100000",
        "cycle=semi_annual&option-{o}=six",
        "cycle=semi_annual&product_id=999999",
        "cycle=semi_annual&product_id={pbx}",
        "cycle=semi_annual&price_override=-5",
        "cycle=semi_annual&price_override=abc",
        "cycle=free",
        "cycle=monthly",
        "cycle=",
        "",
    ],
)
def test_upgrade_popup_never_crashes(shop, staff_web, client_account, query) -> None:
    service = owned_service(shop, client_account)
    text_query = query.format(o=service.product.options[0].id, pbx=shop[demo.PBX_OFFICE].id)
    response = staff_web.get(f"/admin/services/{service.id}/change?{text_query}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    if query:
        assert 'class="alert alert-danger"' in text or 'id="change-preview"' in text


def test_upgrade_popup_shows_days_and_creates_the_change_order(
    shop, staff_web, client_account, clock
) -> None:
    client_account.tax_exempt = True
    db.session.commit()
    service = owned_service(shop, client_account)
    option = service.product.options[0].id
    url = f"/admin/services/{service.id}/change"
    clock.set(clock.now() + timedelta(days=30))  # 2.12.2026: 30 of 181 days used
    text = staff_web.get(f"{url}?cycle=semi_annual&option-{option}=6").get_data(as_text=True)
    assert 'id="days-remaining">151 / 181' in text and 'id="days-used">30' in text
    assert 'id="difference">RUB\xa04,004.42' in text  # 28800 x 151/181 - 24000 x 151/181
    created = staff_web.submit(
        url,
        {
            "cycle": "semi_annual",
            f"option-{option}": "6",
            "product_id": service.product_id,
            "price_override": "",
            "action": "confirm",
        },
        form_page=url,
    )
    assert created.status_code == 302
    order = db.session.scalar(select(Order).where(Order.kind == OrderKind.CHANGE))
    invoice = db.session.get(Invoice, order.invoice_id)
    assert invoice.total == D("4004.42")
    assert invoice.lines[0].description.endswith("(02.12.2026 - 01.05.2027)")
    page = staff_web.get(f"/admin/services/{service.id}").get_data(as_text=True)
    assert "waiting for payment" in page


def test_services_due_counter_and_list(shop, staff_web, client_account, clock) -> None:
    service = owned_service(shop, client_account)
    assert 'href="/admin/services/due">0</a>' in staff_web.get("/admin/").get_data(as_text=True)
    service.next_due_date = TODAY + timedelta(days=7)
    db.session.commit()
    assert 'href="/admin/services/due">1</a>' in staff_web.get("/admin/").get_data(as_text=True)
    assert demo.USERS_PRODUCT in staff_web.get("/admin/services/due").get_data(as_text=True)
    listing = staff_web.get("/admin/services?q=Стандарт&status=active").get_data(as_text=True)
    assert f"/admin/services/{service.id}" in listing
    service.status = ServiceStatus.SUSPENDED
    db.session.commit()
    assert 'href="/admin/services/due">0</a>' in staff_web.get("/admin/").get_data(as_text=True)


def test_orders_need_the_orders_permission(app: Flask, shop, client_account, clock) -> None:
    service = owned_service(shop, client_account)
    accountant = make_staff(clock, role="accountant")
    web = app.test_client()
    web.sign_in_staff(accountant.email)
    for url in (
        "/admin/orders",
        "/admin/orders/pending",
        "/admin/orders/new",
        f"/admin/services/{service.id}/change",
    ):
        assert web.get(url).status_code == 403, url
    assert web.get(f"/admin/services/{service.id}").status_code == 200
    response = web.submit(
        f"/admin/services/{service.id}",
        {"status": "terminated"},
        form_page=f"/admin/services/{service.id}",
    )
    assert response.status_code == 403


def test_staff_orders_an_add_on_from_the_service_page(shop, staff_web, client_account) -> None:
    service = owned_service(shop, client_account)
    url = f"/admin/services/{service.id}"
    page = staff_web.get(url).get_data(as_text=True)
    assert 'id="addon-form"' in page and "Резервное копирование базы 1С" in page
    addon_id = page.split('name="addon_id" id="addon_id">')[1].split('value="')[1].split('"')[0]
    created = staff_web.submit(f"{url}/addons", {"addon_id": addon_id}, form_page=url)
    assert created.status_code == 302 and "/admin/orders/" in created.location
    order = db.session.scalar(select(Order).where(Order.kind == OrderKind.ADDON))
    assert order.status is OrderStatus.PENDING and order.invoice_id
    assert "Add-on to a service" in staff_web.get(created.location).get_data(as_text=True)
    again = staff_web.submit(f"{url}/addons", {"addon_id": addon_id}, form_page=url)
    assert "Choose one of the add-ons" in staff_web.get(again.location).get_data(as_text=True)
