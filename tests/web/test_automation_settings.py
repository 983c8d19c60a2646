"""Settings → Automation (every mistake a clear error, nothing stored, nothing lost), the
per-product and per-client automation fields, and credit terms refusing orders and changes in
the client area and the admin area."""

import re
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from portal import billing
from portal.accounts.models import AuditEntry
from portal.catalog.models import Product
from portal.core.extensions import db
from portal.invoicing import invoices
from portal.orders import orders
from portal.orders.models import Order
from portal.orders.orders import CartItem
from portal.platform import demo, runtime_settings
from portal.platform.models import Setting
from portal.testing.factories import make_staff

D = Decimal
URL = "/admin/settings/automation"
VALID = {
    "invoice_days_before_due": "10",
    "renewal_invoices_as_drafts": "y",
    "reminder_days_before_due": "5",
    "reminder_on_due": "y",
    "first_overdue_days": "2",
    "second_overdue_days": "9",
    "third_overdue_days": "0",
    "late_fee_kind": "percent",
    "late_fee_amount": "0,5",
    "late_fee_after_days": "3",
    "late_fee_repeat_days": "30",
    "late_fee_cap": "1000.00",
    "suspend_after_days": "15",
    "suspension_warning_days": "5",
    "terminate_after_days": "90",
}


STORED = {
    "invoice_days_before_due": 10,
    "renewal_invoices_as_drafts": True,
    "reminder_days_before_due": 5,
    "reminder_on_due": True,
    "overdue_reminder_days": [2, 9, 0],
    "late_fee": {
        "kind": "percent",
        "amount": "0.5",
        "after_days": 3,
        "repeat_days": 30,
        "cap": "1000.00",
    },
    "suspend_after_days": 15,
    "suspension_warning_days": 5,
    "terminate_after_days": 90,
}


def shown(page: str, name: str) -> str | None:
    """The value of input ``name`` on the page."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    return found.group(1) if found else None


def test_the_page_shows_the_defaults_and_saves_every_setting(staff_web) -> None:
    menu = staff_web.get("/admin/section/settings").get_data(as_text=True)
    assert f'href="{URL}"' in menu
    page = staff_web.get(URL).get_data(as_text=True)
    assert [shown(page, name) for name in ("reminder_days_before_due", "first_overdue_days")] == [
        "3",
        "1",
    ]
    assert [shown(page, name) for name in ("suspend_after_days", "terminate_after_days")] == [
        "10",
        "60",
    ]

    assert staff_web.submit(URL, VALID).status_code == 302
    assert {key: runtime_settings.get(key) for key in STORED} == STORED
    audited = db.session.scalars(
        select(AuditEntry.entity_id).where(AuditEntry.action == "setting.update")
    ).all()
    assert set(STORED) <= set(audited)
    page = staff_web.get(URL).get_data(as_text=True)
    assert (shown(page, "late_fee_amount"), shown(page, "late_fee_cap")) == ("0.5", "1000.00")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"late_fee_kind": "fixed", "late_fee_amount": ""}, "Enter the fee: an amount"),
        ({"late_fee_kind": "fixed", "late_fee_amount": "пятьсот"}, "Enter a number, e.g. 500.00."),
        ({"late_fee_kind": "fixed", "late_fee_amount": "10.005"}, "Use at most 2 decimal places."),
        ({"late_fee_kind": "fixed", "late_fee_amount": "-5"}, "greater than zero"),
        ({"late_fee_amount": "150"}, "A percent is at most 100."),
        ({"late_fee_after_days": "0"}, "at least one day after the due date"),
        ({"late_fee_cap": "много"}, "Enter a number, e.g. 500.00."),
        ({"second_overdue_days": "2"}, "must come later than the one before it"),
        ({"first_overdue_days": "0", "third_overdue_days": "9"}, "must come later than"),
        ({"terminate_after_days": "15"}, "Termination must come later than suspension"),
        ({"suspend_after_days": ""}, "This field is required."),
        ({"suspend_after_days": "-1"}, "Number must be between 0 and 3650."),
        ({"reminder_days_before_due": "три"}, "Enter a whole number from"),
        ({"late_fee_kind": "sometimes"}, "Not a valid choice."),
    ],
)
def test_mistakes_are_shown_and_nothing_is_stored(staff_web, changes, message) -> None:
    response = staff_web.submit(URL, {**VALID, **changes})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and "invalid-feedback" in page
    for name, value in changes.items():  # what was typed is still there
        if name != "late_fee_kind":
            assert shown(page, name) == value, name
    assert db.session.scalar(select(Setting).where(Setting.key == "late_fee")) is None
    assert db.session.scalar(select(Setting).where(Setting.key == "suspend_after_days")) is None


def test_fees_off_keeps_the_days_and_needs_no_amount(staff_web) -> None:
    off = {**VALID, "late_fee_kind": "none", "late_fee_amount": "", "late_fee_cap": ""}
    assert staff_web.submit(URL, off).status_code == 302
    assert runtime_settings.get("late_fee")["kind"] == "none"


def test_only_staff_who_manage_settings_open_the_page(app: Flask, clock) -> None:
    support = make_staff(clock, role="support")
    web = app.test_client()
    web.sign_in_staff(support.email)
    assert web.get(URL).status_code == 403


# --- products and clients -----------------------------------------------------------------------


@pytest.fixture
def shop(app: Flask):
    products = demo.load_demo_catalogue()
    db.session.commit()
    return products


def test_a_product_overrides_the_days_blank_is_the_setting(staff_web, shop) -> None:
    product = shop[demo.DISK_PRODUCT]
    url = f"/admin/catalog/products/{product.id}"
    data = {
        "name": product.name,
        "group_id": product.group_id,
        "type": product.type.value,
        "visibility": product.visibility.value,
        "module": product.module,
        "day_count": "",
        "sort_order": "0",
        "invoice_days_before_due": "14",
        "suspend_after_days": "0",
        "terminate_after_days": "",
    }
    assert staff_web.submit(url, data).status_code == 302
    db.session.refresh(product)
    assert (product.invoice_days_before_due, product.suspend_after_days) == (14, 0)
    assert product.terminate_after_days is None
    bad = staff_web.submit(url, {**data, "suspend_after_days": "-3"})
    assert "Number must be between 0 and 3650." in bad.get_data(as_text=True)


def _profile(client, **changes: object) -> dict:
    data = {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "company": client.company,
        "email": client.email,
        "country": "RU",
        "currency": "RUB",
        "language": "en",
        "status": "active",
        "rating": "normal",
        "legal_type": "individual",
    }
    return {**data, **changes}


def test_client_credit_terms_and_flags_are_edited_on_the_profile(staff_web, client_account):
    url = f"/admin/clients/{client_account.id}/profile"
    page = staff_web.get(url).get_data(as_text=True)
    for name in (
        "no_late_fees",
        "no_overdue_notices",
        "never_suspend",
        "no_suspend_until",
        "credit_limit",
        "payment_terms_days",
        "block_orders_after_days",
    ):
        assert f'name="{name}"' in page, name
    bad = staff_web.submit(url, _profile(client_account, credit_limit="100.001"))
    assert "Enter the credit limit in whole kopecks" in bad.get_data(as_text=True)
    saved = staff_web.submit(
        url,
        _profile(
            client_account,
            credit_limit="50000.00",
            payment_terms_days="30",
            block_orders_after_days="15",
            no_late_fees="y",
        ),
    )
    assert saved.status_code == 302
    db.session.refresh(client_account)
    assert client_account.credit_limit == D("50000.00")
    assert (client_account.payment_terms_days, client_account.block_orders_after_days) == (30, 15)
    assert client_account.no_late_fees
    draft = invoices.create_draft(
        client_account, [(billing.charge_line("Услуга", D("100.00"), "RUB"), None)]
    )
    db.session.commit()
    issued = invoices.issue_invoice(draft, today=date(2026, 11, 2))
    assert issued.due_date == date(2026, 12, 2)  # the deferral: 30 days to pay


# --- credit terms -------------------------------------------------------------------------------


def _owe(client, amount: str, on: date) -> None:
    draft = invoices.create_draft(client, [(billing.charge_line("Услуга", D(amount), "RUB"), None)])
    db.session.commit()
    invoices.issue_invoice(draft, today=on, due_days=10)


def _cart(client_web, product: Product) -> None:
    option = product.options[0].id
    client_web.submit(
        f"/order/{product.id}", {"cycle": "monthly", f"option-{option}": "2", "action": "add"}
    )


def test_over_the_credit_limit_the_client_cannot_order(shop, client_web, client_account) -> None:
    client_account.credit_limit = D("1000.00")
    db.session.commit()
    _owe(client_account, "1000.00", date(2026, 11, 1))  # at the limit: still allowed
    _cart(client_web, shop[demo.USERS_PRODUCT])
    placed = client_web.submit("/cart/checkout", {"confirm": "1"}, form_page="/cart")
    assert placed.status_code == 302 and "/orders/" in placed.location
    _owe(client_account, "0.01", date(2026, 11, 1))  # above it now
    _cart(client_web, shop[demo.DISK_PRODUCT])
    refused = client_web.submit("/cart/checkout", {"confirm": "1"}, form_page="/cart")
    assert refused.status_code == 302 and refused.location.endswith("/cart")
    page = client_web.get("/cart").get_data(as_text=True)
    assert "New orders and changes are blocked: unpaid invoices of RUB1,000.01" in page
    assert "above the credit limit of RUB1,000.00" in page
    assert len(db.session.scalars(select(Order)).all()) == 1


def test_an_invoice_overdue_too_long_blocks_staff_orders_and_changes(
    shop, staff_web, client_web, client_account, clock
) -> None:
    product = shop[demo.USERS_PRODUCT]
    order = orders.place_order(
        client_account,
        [CartItem(product.id, "semi_annual", {product.options[0].id: 5})],
        today=date(2026, 10, 1),
    )
    orders.accept_order(order, today=date(2026, 10, 1))  # invoice due 11.10.2026: 22 days late
    service_id = order.items[0].service_id
    client_account.block_orders_after_days = 21
    db.session.commit()
    card = staff_web.get(f"/admin/clients/{client_account.id}").get_data(as_text=True)
    assert 'id="order-block"' in card and "is 22 days overdue" in card

    disk: Product = shop[demo.DISK_PRODUCT]
    url = f"/admin/orders/new?client_id={client_account.id}&product_id={disk.id}"
    staff = staff_web.submit(
        "/admin/orders/new",
        {
            "client_id": client_account.id,
            "product_id": disk.id,
            "cycle": "monthly",
            f"option-{disk.options[0].id}": "1",
            "price_override": "",
            "generate_invoice": "y",
            "action": "create",
        },
        form_page=url,
    )
    assert staff.status_code == 200
    assert "is 22 days overdue. Please pay it first." in staff.get_data(as_text=True)

    option = product.options[0].id
    change = {"cycle": "semi_annual", f"option-{option}": "6", "action": "confirm"}
    admin_change = staff_web.submit(
        f"/admin/services/{service_id}/change",
        {**change, "product_id": product.id, "price_override": ""},
    )
    assert "New orders and changes are blocked" in admin_change.get_data(as_text=True)
    client_change = client_web.submit(f"/services/{service_id}/change", change)
    assert "New orders and changes are blocked" in client_change.get_data(as_text=True)
    assert len(db.session.scalars(select(Order)).all()) == 1

    client_account.block_orders_after_days = 22  # "more than 22 days": not yet
    db.session.commit()
    card = staff_web.get(f"/admin/clients/{client_account.id}").get_data(as_text=True)
    assert 'id="order-block"' not in card
