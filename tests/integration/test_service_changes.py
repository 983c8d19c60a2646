"""Upgrades and downgrades: the preview is billing.quote_change's, the upgrade invoice is
co-terminated for exactly the previewed amount and applies on payment, a downgrade's credit
lands in the balance at once, and junk input never crashes."""

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from portal.core.extensions import db
from portal.invoicing import payments
from portal.invoicing.models import CreditEntry, CreditReason, Invoice, InvoiceStatus
from portal.orders import orders, service_changes
from portal.orders.models import (
    ChangeStatus,
    Order,
    OrderKind,
    OrderSource,
    OrderStatus,
    Service,
    ServiceChange,
)
from portal.orders.orders import CartItem
from portal.orders.service_changes import ChangeError, ChangeRequest
from portal.platform import demo
from portal.testing.factories import make_client

D = Decimal
START = date(2019, 2, 1)
CHANGE_DAY = date(2019, 3, 4)


@pytest.fixture
def shop(app: Flask):
    products = demo.load_demo_catalogue()
    db.session.commit()
    return products


def buy(
    shop, client, name: str, cycle: str, quantity: int | None = None, on: date = START
) -> Service:
    product = shop[name]
    options = {product.options[0].id: quantity} if quantity is not None else {}
    order = orders.place_order(client, [CartItem(product.id, cycle, options)], today=on)
    orders.accept_order(order, today=on)
    return db.session.get(Service, order.items[0].service_id)


@pytest.fixture
def five_users(shop, client_account) -> Service:
    """5 users at 4800.00 per user per half-year, 01.02.2019 - 31.07.2019; no VAT for the
    client, so amounts match the worked example of docs/billing.md."""
    client_account.tax_exempt = True
    db.session.commit()
    return buy(shop, client_account, demo.USERS_PRODUCT, "semi_annual", 5)


def users_option(service: Service) -> int:
    return service.product.options[0].id


def test_upgrade_5_to_6_users_is_previewed_invoiced_co_termed_and_applied_on_payment(
    five_users, client_account
) -> None:
    option = users_option(five_users)
    request = ChangeRequest(options={option: 6})
    preview = service_changes.preview(five_users, request, today=CHANGE_DAY)
    quote = preview.quote
    assert (quote.days_used, quote.days_remaining, quote.days_total) == (31, 150, 181)
    assert (quote.credit, quote.charge, quote.difference) == (
        D("19889.50"),
        D("23867.40"),
        D("3977.90"),
    )
    assert preview.amount_due == D("3977.90") and preview.new_details == (
        "Количество пользователей: 6 x Пользователь",
    )
    change = service_changes.confirm(five_users, request, today=CHANGE_DAY)
    invoice = db.session.get(Invoice, change.invoice_id)
    assert invoice.status is InvoiceStatus.UNPAID and invoice.total == preview.amount_due
    [line] = invoice.lines
    assert line.description == (
        "Change of package: Доступ на пользователя «Стандарт» (04.03.2019 - 31.07.2019)"
    )
    assert (line.period_start, line.period_end) == (CHANGE_DAY, date(2019, 8, 1))
    assert "Days to the end of the current cycle: 150 / 181" in line.details
    assert line.service_id == five_users.id
    order = db.session.get(Order, change.order_id)
    assert order.kind is OrderKind.CHANGE and order.status is OrderStatus.PENDING
    assert order.invoice_id == invoice.id
    db.session.refresh(five_users)
    assert five_users.options[0].quantity == 5  # nothing changes before the payment
    with pytest.raises(ChangeError, match="waiting for payment"):
        service_changes.preview(five_users, ChangeRequest(options={option: 7}), today=CHANGE_DAY)
    payments.record_payment(
        client_account,
        amount=D("2000.00"),
        method="bank",
        reference="pp-1",
        payment_date=date(2019, 3, 5),
        invoices=[invoice],
    )
    db.session.refresh(five_users)
    assert five_users.options[0].quantity == 5  # partly paid: still waiting
    payments.record_payment(
        client_account,
        amount=D("1977.90"),
        method="bank",
        reference="pp-2",
        payment_date=date(2019, 3, 6),
        invoices=[invoice],
    )
    db.session.expire_all()
    service = db.session.get(Service, five_users.id)
    assert service.options[0].quantity == 6 and service.recurring_amount == D("28800.00")
    assert service.next_due_date == date(2019, 8, 1)  # co-termed: the due date does not move
    assert db.session.get(ServiceChange, change.id).status is ChangeStatus.APPLIED
    assert db.session.get(Order, change.order_id).status is OrderStatus.ACTIVE


def test_the_invoice_carries_vat_on_top_of_the_previewed_difference(shop, client_account) -> None:
    service = buy(shop, client_account, demo.USERS_PRODUCT, "semi_annual", 5)
    request = ChangeRequest(options={users_option(service): 6})
    preview = service_changes.preview(service, request, today=CHANGE_DAY)
    assert (preview.taxed.net, preview.taxed.tax, preview.taxed.total) == (
        D("3977.90"),
        D("795.58"),
        D("4773.48"),
    )  # VAT 20 % in 2019
    change = service_changes.confirm(service, request, today=CHANGE_DAY)
    invoice = db.session.get(Invoice, change.invoice_id)
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        D("3977.90"),
        D("795.58"),
        D("4773.48"),
    )


def test_30_360_convention(five_users) -> None:
    five_users.product.day_count = "30/360"
    db.session.commit()
    preview = service_changes.preview(
        five_users, ChangeRequest(options={users_option(five_users): 6}), today=CHANGE_DAY
    )
    quote = preview.quote
    assert (quote.days_remaining, quote.days_total) == (147, 180)
    assert (quote.credit, quote.charge, quote.difference) == (
        D("19600.00"),
        D("23520.00"),
        D("3920.00"),
    )


def test_downgrade_applies_at_once_and_the_credit_lands_in_the_balance(
    five_users, client_account
) -> None:
    option = users_option(five_users)
    five_users.options[0].quantity = 6
    five_users.recurring_amount = D("28800.00")
    db.session.commit()
    preview = service_changes.preview(
        five_users, ChangeRequest(options={option: 5}), today=CHANGE_DAY
    )
    assert preview.is_downgrade and preview.to_credit == D("3977.90")
    change = service_changes.confirm(
        five_users, ChangeRequest(options={option: 5}), today=CHANGE_DAY
    )
    assert change.status is ChangeStatus.APPLIED and change.invoice_id is None
    db.session.expire_all()
    service = db.session.get(Service, five_users.id)
    assert service.options[0].quantity == 5 and service.recurring_amount == D("24000.00")
    assert payments.credit_balance(client_account.id, "RUB") == D("3977.90")
    entry = db.session.scalar(select(CreditEntry))
    assert entry.reason is CreditReason.DOWNGRADE
    assert db.session.get(Order, change.order_id).status is OrderStatus.ACTIVE


def test_product_change_along_the_upgrade_paths(shop, client_account) -> None:
    client_account.tax_exempt = True
    office = buy(shop, client_account, demo.PBX_OFFICE, "monthly", on=date(2019, 3, 1))
    department = shop[demo.PBX_DEPARTMENT]
    targets = [p.name for p in service_changes.change_targets(office)]
    assert targets == [demo.PBX_OFFICE, demo.PBX_DEPARTMENT]
    preview = service_changes.preview(
        office, ChangeRequest(product_id=department.id), today=date(2019, 3, 16)
    )
    # 4500.00 x 16/31 back, 2000.00 x 16/31 charged
    assert (preview.quote.credit, preview.quote.charge) == (D("2322.58"), D("1032.26"))
    service_changes.confirm(
        office, ChangeRequest(product_id=department.id), today=date(2019, 3, 16)
    )
    db.session.refresh(office)
    assert office.product_id == department.id and office.recurring_amount == D("2000.00")
    assert payments.credit_balance(client_account.id, "RUB") == D("1290.32")
    with pytest.raises(ChangeError, match="Choose one of the products"):
        service_changes.preview(
            office, ChangeRequest(product_id=shop[demo.DISK_PRODUCT].id), today=date(2019, 3, 17)
        )


def test_longer_cycle_moves_the_next_due_date(shop, client_account) -> None:
    client_account.tax_exempt = True
    licences = buy(shop, client_account, demo.LICENCES_PRODUCT, "semi_annual")
    change = service_changes.confirm(licences, ChangeRequest(cycle="annual"), today=CHANGE_DAY)
    assert change.next_due == date(2020, 2, 1)
    invoice = db.session.get(Invoice, change.invoice_id)
    payments.record_payment(
        client_account,
        amount=invoice.total,
        method="bank",
        reference="x",
        payment_date=CHANGE_DAY,
        invoices=[invoice],
    )
    db.session.refresh(licences)
    assert licences.cycle == "annual" and licences.next_due_date == date(2020, 2, 1)
    assert licences.period_start == START and licences.recurring_amount == D("24000.00")
    with pytest.raises(ChangeError, match="takes effect at the end of the paid period"):
        service_changes.preview(licences, ChangeRequest(cycle="semi_annual"), today=CHANGE_DAY)


def test_cancelling_the_change_order_cancels_its_invoice(five_users) -> None:
    change = service_changes.confirm(
        five_users, ChangeRequest(options={users_option(five_users): 8}), today=CHANGE_DAY
    )
    order = db.session.get(Order, change.order_id)
    with pytest.raises(orders.OrderError, match="paying its invoice"):
        orders.accept_order(order, today=CHANGE_DAY)
    orders.cancel_order(order)
    assert db.session.get(Invoice, change.invoice_id).status is InvoiceStatus.CANCELLED
    assert db.session.get(ServiceChange, change.id).status is ChangeStatus.CANCELLED
    service_changes.preview(
        five_users, ChangeRequest(options={users_option(five_users): 7}), today=CHANGE_DAY
    )  # another change can be quoted now


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"options": {"users": -1}}, "below the minimum"),
        ({"options": {"users": 501}}, "above the maximum"),
        ({"options": {"users": "6"}}, "whole numbers"),
        ({"options": {"users": 2.5}}, "whole numbers"),
        ({"options": {123456: 1}}, "does not belong"),
        ({"product_id": 999999}, "Choose one of the products"),
        ({"cycle": "fortnightly"}, "Unknown billing cycle"),
        ({"cycle": "annual"}, "No price is set"),
        ({"cycle": "monthly"}, "takes effect at the end"),
        ({"cycle": "one_time"}, "one-time purchase"),
        ({"cycle": "free"}, "No price is set"),
        ({}, None),
    ],
)
def test_junk_input_never_crashes(five_users, request_, message) -> None:
    values = dict(request_)
    if "options" in values:
        values["options"] = {
            users_option(five_users) if k == "users" else k: v for k, v in values["options"].items()
        }
    request = ChangeRequest(**values)
    if message is None:
        with pytest.raises(ChangeError, match="Nothing changes"):
            service_changes.confirm(five_users, request, today=CHANGE_DAY)
        return
    with pytest.raises(ChangeError, match=message):
        service_changes.preview(five_users, request, today=CHANGE_DAY)


def test_preview_outside_the_period_and_of_inactive_services(five_users) -> None:
    with pytest.raises(ChangeError, match="outside the period"):
        service_changes.preview(
            five_users, ChangeRequest(options={users_option(five_users): 6}), today=date(2019, 9, 1)
        )
    five_users.status = five_users.status.SUSPENDED
    with pytest.raises(ChangeError, match="Only an active service"):
        service_changes.preview(five_users, ChangeRequest(), today=CHANGE_DAY)


def test_free_to_paid_starts_a_full_period(shop, client_account) -> None:
    client_account.tax_exempt = True
    users = shop[demo.USERS_PRODUCT]
    from portal.catalog.models import ProductPrice

    users.prices.append(ProductPrice(currency="RUB", cycle="free", price=D(0)))
    db.session.commit()
    service = buy(shop, client_account, demo.USERS_PRODUCT, "free", 1)
    assert service.next_due_date is None
    request = ChangeRequest(cycle="monthly", options={users.options[0].id: 2})
    preview = service_changes.preview(service, request, today=date(2019, 3, 15))
    assert preview.quote.charge == D("1600.00") and preview.quote.next_due == date(2019, 4, 15)
    change = service_changes.confirm(service, request, today=date(2019, 3, 15))
    invoice = db.session.get(Invoice, change.invoice_id)
    payments.record_payment(
        client_account,
        amount=invoice.total,
        method="bank",
        reference="f",
        payment_date=date(2019, 3, 15),
        invoices=[invoice],
    )
    db.session.refresh(service)
    assert (service.cycle, service.period_start, service.next_due_date) == (
        "monthly",
        date(2019, 3, 15),
        date(2019, 4, 15),
    )


def test_a_price_override_needs_staff(five_users, client_account, staff_member) -> None:
    five_users.price_override = D("20000.00")
    five_users.recurring_amount = D("20000.00")
    db.session.commit()
    request = ChangeRequest(options={users_option(five_users): 6})
    with pytest.raises(ChangeError, match="special price"):
        service_changes.preview(five_users, request, today=CHANGE_DAY)
    staff_request = ChangeRequest(
        options={users_option(five_users): 6}, price_override=D("24000.00")
    )
    preview = service_changes.preview(five_users, staff_request, today=CHANGE_DAY, staff=True)
    assert preview.quote.difference == D("3314.91")  # 19889.50 - 16574.59
    change = service_changes.confirm(
        five_users,
        staff_request,
        today=CHANGE_DAY,
        staff_id=staff_member.id,
        source=OrderSource.STAFF,
    )
    invoice = db.session.get(Invoice, change.invoice_id)
    payments.record_payment(
        client_account,
        amount=invoice.total,
        method="bank",
        reference="o",
        payment_date=CHANGE_DAY,
        invoices=[invoice],
    )
    db.session.refresh(five_users)
    assert five_users.price_override == D("24000.00") and five_users.options[0].quantity == 6


def test_move_service_to_another_client(five_users, client_account, clock) -> None:
    other = make_client(clock, first_name="Другой")
    service_changes.move_service(five_users, other)
    assert five_users.client_id == other.id
    with pytest.raises(ChangeError, match="already belongs"):
        service_changes.move_service(five_users, other)
    third = make_client(clock, first_name="Третий")
    third_service = buy(
        five_users.product and demo.load_demo_catalogue(),
        third,
        demo.USERS_PRODUCT,
        "semi_annual",
        1,
    )
    with pytest.raises(ChangeError, match="already has"):
        service_changes.move_service(third_service, other)


def test_update_service_and_the_due_counter(five_users) -> None:
    with pytest.raises(ChangeError, match="reason"):
        service_changes.update_service(five_users, {"terminate_at_period_end": True})
    db.session.rollback()
    changed = service_changes.update_service(
        five_users,
        {
            "terminate_at_period_end": True,
            "termination_reason": "Переезд",
            "admin_notes": "Звонить бухгалтеру",
            "no_suspend_until": date(2019, 4, 1),
            "price_override": D("20000.00"),
        },
    )
    assert D(changed["recurring_amount"]) == D("20000.00")
    service_changes.update_service(five_users, {"price_override": None})
    assert five_users.recurring_amount == D("24000.00")
    assert service_changes.services_due_count(date(2019, 7, 25)) == 1
    assert service_changes.services_due_count(date(2019, 7, 24)) == 0
    assert service_changes.services_due_count(date(2019, 8, 2)) == 0


def test_an_add_on_bought_mid_period_is_co_termed_and_active_on_payment(
    five_users, client_account
) -> None:
    from portal.orders.models import ServiceAddon, ServiceStatus

    [addon] = service_changes.addons_available(five_users)
    quote = service_changes.quote_addon(five_users, addon.id, today=CHANGE_DAY)
    [line] = quote.lines
    assert (
        line.description
        == "Резервное копирование базы 1С (04.03.2019 - 31.07.2019, 150 из 181 дн.)"
    )
    assert line.quantity * line.unit_price == line.amount
    assert line.amount == D("1491.71")  # 1800.00 x 150 / 181
    held = service_changes.order_addon(five_users, addon.id, today=CHANGE_DAY)
    assert held.status is ServiceStatus.PENDING
    assert service_changes.addons_available(five_users) == []
    with pytest.raises(ChangeError, match="Choose one of the add-ons"):
        service_changes.order_addon(five_users, addon.id, today=CHANGE_DAY)
    order = db.session.get(Order, held.order_id)
    invoice = db.session.get(Invoice, order.invoice_id)
    assert invoice.total == D("1491.71") and order.kind is OrderKind.ADDON
    payments.record_payment(
        client_account,
        amount=invoice.total,
        method="bank",
        reference="a",
        payment_date=CHANGE_DAY,
        invoices=[invoice],
    )
    db.session.expire_all()
    held = db.session.get(ServiceAddon, held.id)
    assert held.status is ServiceStatus.ACTIVE and held.recurring_amount == D("1800.00")
    assert db.session.get(Order, order.id).status is OrderStatus.ACTIVE


def test_cancelling_an_add_on_order_frees_the_add_on(five_users) -> None:
    from portal.orders.models import ServiceAddon

    [addon] = service_changes.addons_available(five_users)
    held = service_changes.order_addon(five_users, addon.id, today=CHANGE_DAY)
    orders.cancel_order(db.session.get(Order, held.order_id))
    assert db.session.scalar(select(ServiceAddon.id)) is None
    assert [a.id for a in service_changes.addons_available(five_users)] == [addon.id]
    with pytest.raises(ChangeError, match="Choose one of the add-ons"):
        service_changes.quote_addon(five_users, 999999, today=CHANGE_DAY)
