"""The client card's "Discounts and taxes" tab: list, add, edit and end personal discounts and
tax rules, Russian validation errors on the form, permissions like other card edits, another
client's rule is a 404; and the shop's checkout shows the personal discount."""

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from portal.accounts.models import AuditEntry
from portal.catalog import client_rules
from portal.catalog.models import ClientDiscount, ClientTaxRule
from portal.core.clock import today
from portal.core.extensions import db
from portal.platform import demo
from portal.testing.factories import make_client, make_staff

D = Decimal
RU = {"Accept-Language": "ru-RU,ru;q=0.9"}


@pytest.fixture
def shop(app: Flask):
    products = demo.load_demo_catalogue()
    db.session.commit()
    return products


def _page(web, url: str, **kwargs) -> str:
    response = web.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_staff_add_edit_and_end_a_discount_and_a_tax_rule(shop, staff_web, client_account) -> None:
    tab = f"/admin/clients/{client_account.id}/pricing"
    page = _page(staff_web, tab, headers=RU)
    assert "Скидки и налоги" in page and 'id="no-discounts"' in page and 'id="no-tax-rules"' in page
    disk = shop[demo.DISK_PRODUCT]
    added = staff_web.submit(
        f"{tab}/discounts",
        {
            "product_id": disk.id,
            "kind": "coefficient",
            "value": "0,8500",
            "valid_from": "2026-03-01",
            "valid_to": "2026-05-31",
            "note": "договор 12",
        },
        form_page=tab,
    )
    assert added.status_code == 302
    discount = db.session.scalar(select(ClientDiscount))
    assert (discount.product_id, discount.value, discount.note) == (
        disk.id,
        D("0.8500"),
        "договор 12",
    )
    page = _page(staff_web, tab)
    assert "× 0.8500" in page and "01.03.2026 – 31.05.2026" in page and disk.name in page

    # an overlapping window, a coefficient out of range, an end before the start: in Russian
    for data, message in (
        ({"valid_from": "2026-05-01"}, "периоды пересекаются"),
        ({"value": "1.5", "valid_from": "2026-06-01"}, "Коэффициент должен быть больше 0"),
        ({"valid_from": "2026-07-02", "valid_to": "2026-07-01"}, "Дата окончания раньше даты"),
    ):
        values = {"product_id": disk.id, "kind": "coefficient", "value": "0.9", **data}
        refused = staff_web.submit(f"{tab}/discounts", values, form_page=tab, headers=RU)
        assert refused.status_code == 200 and message in refused.get_data(as_text=True)
    percent = {"product_id": "", "kind": "percent", "value": "150"}
    refused = staff_web.submit(f"{tab}/discounts", percent, form_page=tab, headers=RU)
    assert "Процент скидки должен быть от 0 до 100" in refused.get_data(as_text=True)
    assert (
        db.session.scalar(select(ClientDiscount.id).where(ClientDiscount.id != discount.id)) is None
    )

    edit = f"{tab}/discounts/{discount.id}"
    assert 'value="0.85"' in _page(staff_web, edit)
    saved = staff_web.submit(
        edit,
        {
            "product_id": disk.id,
            "kind": "percent",
            "value": "20",
            "valid_from": "2026-03-01",
            "valid_to": "",
        },
    )
    assert saved.status_code == 302
    db.session.refresh(discount)
    assert (discount.value, discount.valid_to) == (D("20.0000"), None)

    taxed = staff_web.submit(
        f"{tab}/taxes",
        {"percent": "0", "tax_from": "2026-01-01", "product_types": ["licence"], "name": "Без НДС"},
        form_page=tab,
    )
    assert taxed.status_code == 302
    rule = db.session.scalar(select(ClientTaxRule))
    assert (rule.percent, rule.product_types, rule.name) == (D("0"), ["licence"], "Без НДС")
    clash = staff_web.submit(
        f"{tab}/taxes",
        {"percent": "10", "tax_from": "2026-06-01", "product_types": ["licence"]},
        form_page=tab,
        headers=RU,
    ).get_data(as_text=True)
    assert "налоговое правило для тех же типов продуктов" in clash
    page = _page(staff_web, tab, headers=RU)
    assert "Лицензия" in page or "licence" in page.lower()

    on = today()
    ended = staff_web.submit(f"{tab}/discounts/{discount.id}/end", {}, form_page=tab)
    assert ended.status_code == 302
    db.session.refresh(discount)
    assert discount.valid_to == date.fromordinal(on.toordinal() - 1)
    assert "Ended" in _page(staff_web, tab)
    actions = set(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.client_id == client_account.id)
        )
    )
    assert {"client_discount.create", "client_discount.update", "client_discount.end",
            "client_tax_rule.create"} <= actions  # fmt: skip


def test_viewing_needs_clients_view_and_changing_clients_edit(
    app: Flask, shop, client_account, clock
) -> None:
    discount = client_rules.save_discount(client_account, {"kind": "percent", "value": "10"})
    rule = client_rules.save_tax_rule(client_account, {"percent": "0"})
    support = make_staff(clock, role="support")
    web = app.test_client()
    web.sign_in_staff(support.email)
    tab = f"/admin/clients/{client_account.id}/pricing"
    page = _page(web, tab)
    assert 'id="discount-form"' not in page and 'id="tax-rule-form"' not in page
    assert f"/discounts/{discount.id}/end" not in page
    for url, data in (
        (f"{tab}/discounts", {"kind": "percent", "value": "5"}),
        (f"{tab}/discounts/{discount.id}", {"kind": "percent", "value": "5"}),
        (f"{tab}/taxes", {"percent": "5"}),
        (f"{tab}/taxes/{rule.id}", {"percent": "5"}),
        (f"{tab}/discounts/{discount.id}/end", {}),
        (f"{tab}/taxes/{rule.id}/end", {}),
    ):
        assert web.submit(url, data, form_page=tab).status_code == 403, url
    db.session.refresh(discount)
    assert discount.value == D("10.0000") and discount.valid_to is None


def test_another_clients_rule_is_not_found(shop, staff_web, client_account, clock) -> None:
    other = make_client(clock)
    discount = client_rules.save_discount(other, {"kind": "percent", "value": "10"})
    rule = client_rules.save_tax_rule(other, {"percent": "0"})
    tab = f"/admin/clients/{client_account.id}/pricing"
    assert staff_web.get(f"{tab}/discounts/{discount.id}").status_code == 404
    assert staff_web.get(f"{tab}/taxes/{rule.id}").status_code == 404
    assert (
        staff_web.submit(f"{tab}/discounts/{discount.id}/end", {}, form_page=tab).status_code == 404
    )
    assert staff_web.submit(f"{tab}/nonsense/{rule.id}/end", {}, form_page=tab).status_code == 404


def test_checkout_shows_the_personal_discount(shop, client_web, client_account) -> None:
    client_rules.save_discount(client_account, {"kind": "percent", "value": "15"})
    product = shop[demo.USERS_PRODUCT]
    option = product.options[0].id
    data = {"cycle": "semi_annual", f"option-{option}": "5", "action": "add"}
    assert client_web.submit(f"/order/{product.id}", data).status_code == 302
    client_web.submit("/cart", {"action": "promo", "promo_code": "REF5"})
    cart = _page(client_web, "/cart")
    assert "Personal discount 15 %" in cart
    assert "Price RUB\xa024,000.00, personal discount −RUB\xa03,600.00" in cart
    assert 'id="promo-shut-out"' in cart  # the promo code does not add to it
    assert 'id="quote-total">RUB\xa024,888.00' in cart  # 20 400.00 + 22 % VAT
