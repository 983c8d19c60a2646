"""The client area: catalogue, cart with the total with tax, promo code, checkout, services,
the upgrade preview (junk input never crashes it), and client A never sees client B's things."""

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from portal.core.extensions import db
from portal.invoicing.models import Invoice
from portal.orders import orders
from portal.orders.models import Order, OrderStatus, Service
from portal.orders.orders import CartItem
from portal.platform import demo
from portal.testing.factories import make_client
from portal.testing.web import csrf_token_from

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


def post(web, url: str, data: dict, form_page: str | None = None):
    return web.submit(url, data, form_page=form_page)


def test_cart_shows_the_total_with_tax_and_checkout_places_the_order(
    shop, client_web, client_account
) -> None:
    product = shop[demo.USERS_PRODUCT]
    option = product.options[0].id
    page = client_web.get("/order").get_data(as_text=True)
    assert demo.USERS_PRODUCT in page and demo.DISK_PRODUCT in page
    url = f"/order/{product.id}"
    priced = post(
        client_web, url, {"cycle": "semi_annual", f"option-{option}": "5", "action": "price"}
    )
    assert priced.status_code == 200
    assert "29,280.00" in priced.get_data(as_text=True)
    added = post(
        client_web, url, {"cycle": "semi_annual", f"option-{option}": "5", "action": "add"}
    )
    assert added.status_code == 302 and added.location.endswith("/cart")
    cart = client_web.get("/cart").get_data(as_text=True)
    assert "Количество пользователей: 5 x Пользователь" in cart
    assert 'id="quote-total">RUB\xa029,280.00' in cart
    assert "5,280.00" in cart  # VAT 22 %
    promo = post(client_web, "/cart", {"action": "promo", "promo_code": "ref5"})
    assert promo.status_code == 302
    cart = client_web.get("/cart").get_data(as_text=True)
    assert "Промо-код: Скидка для референсных клиентов 5%" in cart and "27,816.00" in cart
    refused = post(client_web, "/cart/checkout", {}, form_page="/cart")
    assert refused.status_code == 302 and db.session.scalar(select(Order.id)) is None
    placed = post(client_web, "/cart/checkout", {"confirm": "1"}, form_page="/cart")
    assert placed.status_code == 302
    order = db.session.scalar(select(Order))
    assert order.status is OrderStatus.PENDING and order.total == D("27816.00")
    assert order.client_id == client_account.id
    assert client_web.get("/cart").get_data(as_text=True).count('id="empty-cart"') == 1
    view = client_web.get(placed.location).get_data(as_text=True)
    assert f"#{order.id}" in view
    assert f"#{order.id}" in client_web.get("/orders").get_data(as_text=True)


def test_junk_in_the_configure_form_is_an_error_not_a_crash(shop, client_web) -> None:
    product = shop[demo.USERS_PRODUCT]
    option = product.options[0].id
    for values in (
        {"cycle": "semi_annual", f"option-{option}": "-3"},
        {"cycle": "semi_annual", f"option-{option}": "1000"},
        {"cycle": "semi_annual", f"option-{option}": "abc"},
        {"cycle": "semi_annual", f"option-{option}": "99999999999999"},
        {"cycle": "fortnightly", f"option-{option}": "2"},
        {"cycle": "annual", f"option-{option}": "2"},
        {},
    ):
        response = post(client_web, f"/order/{product.id}", {**values, "action": "add"})
        assert response.status_code == 200, values
        assert 'class="alert alert-danger"' in response.get_data(as_text=True), values
    assert client_web.get("/order/999999").status_code == 404


def test_ordering_a_product_you_have_leads_to_its_upgrade(shop, client_web, client_account) -> None:
    service = owned_service(shop, client_account)
    response = client_web.get(f"/order/{service.product_id}")
    assert response.status_code == 302
    assert response.location.endswith(f"/services/{service.id}/change")


def test_services_list_and_the_upgrade_preview(shop, client_web, client_account, clock) -> None:
    client_account.tax_exempt = True
    db.session.commit()
    service = owned_service(shop, client_account)
    option = service.product.options[0].id
    listing = client_web.get("/services").get_data(as_text=True)
    assert demo.USERS_PRODUCT in listing and "Semi-annually" in listing
    page = client_web.get(f"/services/{service.id}").get_data(as_text=True)
    assert "Количество пользователей: 5 x Пользователь" in page
    url = f"/services/{service.id}/change"
    preview = client_web.get(f"{url}?cycle=semi_annual&option-{option}=6")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="change-preview"' in text
    # 02.11.2026 - 01.05.2027: 181 days, all remaining on the first day
    assert 'id="days-remaining">181 / 181' in text and "Actual days" in text
    assert 'id="amount-due">RUB\xa04,800.00' in text
    confirmed = post(
        client_web,
        url,
        {
            "cycle": "semi_annual",
            f"option-{option}": "6",
            "product_id": service.product_id,
            "action": "confirm",
        },
    )
    assert confirmed.status_code == 302 and "/invoices/" in confirmed.location
    invoice = db.session.scalar(select(Invoice).order_by(Invoice.id.desc()))
    assert invoice.total == D("4800.00") and invoice.client_id == client_account.id


@pytest.mark.parametrize(
    "query",
    [
        "cycle=semi_annual&option-{o}=-1",
        "cycle=semi_annual&option-{o}=501",
        "cycle=semi_annual&option-{o}=x",
        "cycle=semi_annual&option-{o}=",
        "cycle=semi_annual&product_id=999999",
        "cycle=semi_annual&product_id=abc",
        "cycle=free",
        "cycle=one_time",
        "cycle=monthly",
        "cycle=triennial",
        "cycle=%00",
        "cycle=semi_annual&option-{o}=5",
    ],
)
def test_upgrade_preview_never_crashes(shop, client_web, client_account, query) -> None:
    service = owned_service(shop, client_account)
    url = f"/services/{service.id}/change?" + query.format(o=service.product.options[0].id)
    response = client_web.get(url)
    if "%00" in query:  # a NUL byte is refused before any view (docs/security.md, Input bounds)
        assert response.status_code == 400
        return
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'class="alert alert-danger"' in text or 'id="change-preview"' in text


def test_downgrade_in_the_client_area_credits_the_balance(shop, client_web, client_account) -> None:
    from portal.invoicing import payments

    client_account.tax_exempt = True
    db.session.commit()
    service = owned_service(shop, client_account, count=6)
    option = service.product.options[0].id
    response = post(
        client_web,
        f"/services/{service.id}/change",
        {
            "cycle": "semi_annual",
            f"option-{option}": "5",
            "product_id": service.product_id,
            "action": "confirm",
        },
    )
    assert response.status_code == 302
    assert payments.credit_balance(client_account.id, "RUB") == D("4800.00")
    assert "credit balance" in client_web.get(response.location).get_data(as_text=True)


def test_client_a_gets_404_on_every_service_and_order_url_of_client_b(
    app: Flask, shop, client_web, client_account, clock
) -> None:
    other = make_client(clock, first_name="Чужой")
    service = owned_service(shop, other)
    order = db.session.scalar(select(Order).where(Order.client_id == other.id))
    option = service.product.options[0].id
    change = f"/services/{service.id}/change"
    urls = [
        f"/services/{service.id}",
        change,
        f"{change}?cycle=semi_annual&option-{option}=6",
        f"/orders/{order.id}",
    ]
    for url in urls:
        assert client_web.get(url).status_code == 404, url
    token = csrf_token_from(client_web.get("/services").get_data(as_text=True))
    response = client_web.post(
        change,
        data={
            "csrf_token": token,
            "cycle": "semi_annual",
            f"option-{option}": "6",
            "action": "confirm",
        },
    )
    assert response.status_code == 404
    assert db.session.get(Service, service.id).options[0].quantity == 5
    own = client_web.get("/services").get_data(as_text=True)
    assert f"/services/{service.id}" not in own
    assert f"/orders/{order.id}" not in client_web.get("/orders").get_data(as_text=True)


def test_client_orders_an_add_on_for_a_service(shop, client_web, client_account, clock) -> None:
    service = owned_service(shop, client_account)
    page = client_web.get(f"/services/{service.id}").get_data(as_text=True)
    assert 'id="addon-offers"' in page and "Резервное копирование базы 1С" in page
    addon_id = service_changes_addons(service)[0]
    response = client_web.submit(
        f"/services/{service.id}/addons",
        {"addon_id": addon_id},
        form_page=f"/services/{service.id}",
    )
    assert response.status_code == 302 and "/invoices/" in response.location
    junk = client_web.submit(
        f"/services/{service.id}/addons", {"addon_id": "x"}, form_page=f"/services/{service.id}"
    )
    assert junk.status_code == 302
    other = make_client(clock, first_name="Чужой")
    foreign = owned_service(shop, other)
    token = csrf_token_from(page)
    assert (
        client_web.post(
            f"/services/{foreign.id}/addons", data={"csrf_token": token, "addon_id": addon_id}
        ).status_code
        == 404
    )


def service_changes_addons(service: Service) -> list[int]:
    from portal.catalog import catalog

    return [addon.id for addon in catalog.addons_for(service.product)]
