"""A client whose currency the product has no prices in: the shop, the cart and the staff order
form say which product lacks prices in which currency, not "Unknown billing cycle ."."""

import pytest
from flask import Flask
from flask_babel import force_locale

from portal.core.clock import today
from portal.core.extensions import db
from portal.orders import orders
from portal.orders.orders import CartItem
from portal.platform import demo
from portal.testing.factories import make_client


@pytest.fixture
def shop(app: Flask):
    products = demo.load_demo_catalogue()
    db.session.commit()
    return products


@pytest.fixture
def dollar_client(app: Flask, clock):
    return make_client(clock, currency="USD")


def test_quote_names_the_product_and_the_currency(shop, dollar_client) -> None:
    product = shop[demo.USERS_PRODUCT]
    quote = orders.quote_cart(dollar_client, [CartItem(product.id, "")], today=today())
    error = quote.items[0].error
    assert error == f"{product.name} has no prices in USD."
    with force_locale("ru"):
        quote = orders.quote_cart(dollar_client, [CartItem(product.id, "")], today=today())
    assert quote.items[0].error == f"У продукта «{product.name}» нет цен в валюте USD."
    # a cycle the product is not sold in says so, in the currency the client pays in
    quote = orders.quote_cart(dollar_client, [CartItem(product.id, "monthly")], today=today())
    assert quote.items[0].error == f"{product.name} has no prices in USD."


def test_an_empty_cycle_with_prices_asks_to_choose_one(shop, client_account) -> None:
    product = shop[demo.USERS_PRODUCT]
    quote = orders.quote_cart(client_account, [CartItem(product.id, "")], today=today())
    assert quote.items[0].error == "Choose a billing cycle."


def test_shop_page_and_order_say_what_is_missing(shop, web, dollar_client) -> None:
    web.sign_in_client(dollar_client.email)
    product = shop[demo.USERS_PRODUCT]
    url = f"/order/{product.id}"
    page = web.get(url).get_data(as_text=True)
    assert f"{product.name} has no prices in USD." in page
    posted = web.submit(url, {"cycle": "", "action": "add"}).get_data(as_text=True)
    assert "Unknown billing cycle" not in posted
    assert f"{product.name} has no prices in USD." in posted


def test_staff_order_form_says_what_is_missing(shop, staff_web, dollar_client) -> None:
    product = shop[demo.USERS_PRODUCT]
    url = f"/admin/orders/new?client_id={dollar_client.id}&product_id={product.id}"
    page = staff_web.get(url).get_data(as_text=True)
    assert f"{product.name} has no prices in USD." in page
    data = {
        "client_id": dollar_client.id,
        "product_id": product.id,
        "cycle": "",
        "price_override": "",
        "generate_invoice": "y",
        "action": "calculate",
    }
    posted = staff_web.submit("/admin/orders/new", data, form_page=url).get_data(as_text=True)
    assert "Unknown billing cycle" not in posted
    assert f"{product.name} has no prices in USD." in posted
