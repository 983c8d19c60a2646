"""Orders: cart quote with tax, order -> accept -> service + first invoice, promo codes applied
and counted, co-terming with a running service, the billing day, no duplicate products."""

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.accounts.models import AuditEntry
from portal.core.extensions import db
from portal.invoicing import invoice_documents
from portal.invoicing.models import Invoice, InvoiceStatus
from portal.orders import orders
from portal.orders.models import (
    OrderSource,
    OrderStatus,
    PromoCode,
    PromoCodeKind,
    PromoUse,
    Service,
    ServiceStatus,
)
from portal.orders.orders import CartItem, OrderError
from portal.platform import demo
from portal.platform.models import Setting
from portal.testing.factories import make_client

D = Decimal
TODAY = date(2026, 11, 2)


@pytest.fixture
def shop(app: Flask):
    products = demo.load_demo_catalogue()
    db.session.commit()
    return products


def users(shop, count: int, cycle: str = "semi_annual") -> CartItem:
    product = shop[demo.USERS_PRODUCT]
    return CartItem(product.id, cycle, {product.options[0].id: count})


def disk(shop, packages: int, cycle: str = "semi_annual") -> CartItem:
    product = shop[demo.DISK_PRODUCT]
    return CartItem(product.id, cycle, {product.options[0].id: packages})


def test_quote_shows_the_total_with_vat_22(shop, client_account) -> None:
    quote = orders.quote_cart(client_account, [users(shop, 5)], today=TODAY)
    assert quote.ok
    line = quote.items[0].lines[0]
    assert line.description == "Доступ на пользователя «Стандарт» (02.11.2026 - 01.05.2027)"
    assert line.details == ("Количество пользователей: 5 x Пользователь",)
    assert (quote.draft.subtotal, quote.draft.tax, quote.draft.total) == (
        D("24000.00"),
        D("5280.00"),
        D("29280.00"),
    )
    client_account.tax_exempt = True
    exempt = orders.quote_cart(client_account, [users(shop, 5)], today=TODAY)
    assert exempt.draft.total == D("24000.00") and exempt.draft.tax == D("0.00")
    client_account.tax_exempt = False
    shop[demo.USERS_PRODUCT].tax_inclusive = True
    inclusive = orders.quote_cart(client_account, [users(shop, 5)], today=TODAY)
    assert (inclusive.draft.tax, inclusive.draft.total) == (D("4327.87"), D("24000.00"))


def test_order_accept_creates_the_service_and_the_first_invoice(shop, client_account) -> None:
    order = orders.place_order(client_account, [users(shop, 5)], today=TODAY)
    assert order.status is OrderStatus.PENDING and order.total == D("29280.00")
    assert db.session.scalar(select(func.count(Service.id))) == 0
    assert orders.pending_count() == 1
    orders.accept_order(order, today=date(2026, 11, 3))
    db.session.expire_all()
    service = db.session.scalar(select(Service))
    assert service.status is ServiceStatus.ACTIVE and service.client_id == client_account.id
    assert (service.registration_date, service.period_start, service.next_due_date) == (
        date(2026, 11, 3),
        date(2026, 11, 3),
        date(2027, 5, 3),
    )
    assert service.anchor_day == 3 and service.cycle == "semi_annual"
    assert service.recurring_amount == D("24000.00")
    assert [(o.option.name, o.quantity) for o in service.options] == [
        ("Количество пользователей", 5)
    ]
    invoice = db.session.get(Invoice, order.invoice_id)
    assert invoice.status is InvoiceStatus.UNPAID and invoice.number
    assert invoice.total == D("29280.00") and invoice.tax == D("5280.00")
    [line] = invoice.lines
    assert line.description.endswith("(03.11.2026 - 02.05.2027)")
    assert line.service_id == service.id and line.period_end == date(2027, 5, 3)
    assert order.status is OrderStatus.ACTIVE and orders.pending_count() == 0
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "order.accept"))
    with pytest.raises(OrderError, match="Only a pending order"):
        orders.accept_order(order, today=TODAY)


def test_accept_sends_the_e_mail_unless_skipped(shop, client_account) -> None:
    from portal.messaging.models import OutboundMessage

    first = orders.place_order(client_account, [users(shop, 1)], today=TODAY)
    orders.accept_order(first, today=TODAY)
    other = make_client(orders.clock(), first_name="Ольга")
    second = orders.place_order(other, [users(shop, 1)], today=TODAY, skip_email=True)
    orders.accept_order(second, today=TODAY)
    sent = list(db.session.scalars(select(OutboundMessage)))
    assert [m.to_addrs for m in sent] == [[client_account.email]]
    assert f"#{first.id}" in sent[0].subject


def test_a_client_never_orders_a_product_twice(shop, client_account) -> None:
    order = orders.place_order(client_account, [users(shop, 5)], today=TODAY)
    with pytest.raises(OrderError, match="already ordered"):
        orders.place_order(client_account, [users(shop, 2)], today=TODAY)
    orders.accept_order(order, today=TODAY)
    service = db.session.scalar(select(Service))
    quote = orders.quote_cart(client_account, [users(shop, 6)], today=TODAY)
    assert not quote.ok and quote.items[0].existing_service_id == service.id
    with pytest.raises(OrderError, match="Change its options or package") as caught:
        orders.place_order(client_account, [users(shop, 6)], today=TODAY)
    assert caught.value.service_id == service.id
    with pytest.raises(OrderError, match="in the cart twice"):
        orders.place_order(client_account, [disk(shop, 1), disk(shop, 2)], today=TODAY)


def test_a_terminated_service_is_reopened_by_a_new_order(shop, client_account) -> None:
    orders.accept_order(
        orders.place_order(client_account, [users(shop, 5)], today=TODAY), today=TODAY
    )
    service = db.session.scalar(select(Service))
    service.status = ServiceStatus.TERMINATED
    db.session.commit()
    again = orders.place_order(client_account, [users(shop, 2)], today=date(2027, 1, 10))
    orders.accept_order(again, today=date(2027, 1, 10))
    assert db.session.scalar(select(func.count(Service.id))) == 1
    db.session.refresh(service)
    assert service.status is ServiceStatus.ACTIVE and service.options[0].quantity == 2
    assert service.registration_date == date(2027, 1, 10)


def test_promo_code_is_applied_and_counted(shop, client_account, clock) -> None:
    promo = db.session.scalar(select(PromoCode).where(PromoCode.code == "REF5"))
    promo.max_uses, promo.once_per_client = 2, True
    db.session.commit()
    quote = orders.quote_cart(client_account, [users(shop, 5)], today=TODAY, promo_code="ref5")
    assert quote.promo is promo and quote.promo_error is None
    assert [line.description for line in quote.draft.lines] == [
        "Доступ на пользователя «Стандарт» (02.11.2026 - 01.05.2027)",
        "Промо-код: Скидка для референсных клиентов 5%",
    ]
    assert quote.draft.lines[1].amount == D("-1200.00")
    assert quote.draft.total == D("27816.00")  # (24000 - 1200) x 1.22
    order = orders.place_order(client_account, [users(shop, 5)], today=TODAY, promo_code="REF5")
    assert orders.promo_uses(promo.id) == 1 and order.total == D("27816.00")
    with pytest.raises(OrderError, match="already been used by this client"):
        orders.place_order(client_account, [disk(shop, 1)], today=TODAY, promo_code="REF5")
    orders.accept_order(order, today=TODAY)
    invoice = db.session.get(Invoice, order.invoice_id)
    assert invoice.total == D("27816.00") and invoice.lines[1].kind == "promo"
    service = db.session.scalar(select(Service))
    assert service.recurring_amount == D("24000.00")  # first invoice only
    assert db.session.scalar(select(PromoUse.service_id)) == service.id
    second = make_client(clock, first_name="Второй")
    orders.place_order(second, [users(shop, 1)], today=TODAY, promo_code="REF5")
    third = make_client(clock, first_name="Третий")
    with pytest.raises(OrderError, match="maximum number of times"):
        orders.place_order(third, [users(shop, 1)], today=TODAY, promo_code="REF5")
    assert orders.promo_uses(promo.id) == 2


def test_cancelling_gives_the_promo_use_back(shop, client_account) -> None:
    order = orders.place_order(client_account, [users(shop, 1)], today=TODAY, promo_code="REF5")
    assert orders.promo_uses(order.promo_code_id) == 1
    orders.cancel_order(order, reason="передумал")
    assert order.status is OrderStatus.CANCELLED and orders.promo_uses(order.promo_code_id) == 0
    fraud = orders.place_order(client_account, [users(shop, 1)], today=TODAY)
    orders.cancel_order(fraud, fraud=True)
    assert fraud.status is OrderStatus.FRAUD
    with pytest.raises(OrderError):
        orders.cancel_order(fraud)


def test_recurring_fixed_promo_limited_to_a_product_and_cycle(shop, client_account) -> None:
    disk_product = shop[demo.DISK_PRODUCT]
    db.session.add(
        PromoCode(
            code="DISK100",
            kind=PromoCodeKind.FIXED,
            value=D("100.00"),
            currency="RUB",
            product_ids=[disk_product.id],
            cycles=["semi_annual"],
            recurring=True,
            valid_to=date(2026, 12, 31),
            created_at=orders.clock().now(),
        )
    )
    db.session.commit()
    wrong = orders.quote_cart(client_account, [users(shop, 1)], today=TODAY, promo_code="DISK100")
    assert "does not apply" in wrong.promo_error
    expired = orders.quote_cart(
        client_account, [disk(shop, 3)], today=date(2027, 1, 1), promo_code="DISK100"
    )
    assert "expired on 31.12.2026" in expired.promo_error
    order = orders.place_order(
        client_account, [disk(shop, 3), users(shop, 1)], today=TODAY, promo_code="DISK100"
    )
    orders.accept_order(order, today=TODAY)
    disk_service = db.session.scalar(select(Service).where(Service.product_id == disk_product.id))
    assert disk_service.recurring_amount == D("980.00")  # 3 x 360.00 - 100.00, every renewal
    invoice = db.session.get(Invoice, order.invoice_id)
    assert [line.net for line in invoice.lines] == [D("1080.00"), D("-100.00"), D("4800.00")]


def test_a_second_product_is_co_termed_with_the_running_service(shop, client_account) -> None:
    client_account.tax_exempt = True
    orders.accept_order(
        orders.place_order(client_account, [users(shop, 5)], today=date(2019, 2, 1)),
        today=date(2019, 2, 1),
    )
    order = orders.place_order(client_account, [disk(shop, 3)], today=date(2019, 2, 8))
    assert order.total == D("1038.23")  # 3 x 360.00 x 174 / 181, as docs/billing.md
    orders.accept_order(order, today=date(2019, 2, 8))
    invoice = db.session.get(Invoice, order.invoice_id)
    (line,) = invoice.lines
    # the line says which days it bills and adds up: 1 x 1 038,23, not "1 x 1 080,00 = 1 038,23"
    assert line.description == (
        "Пакет дискового пространства 5ГБ (08.02.2019 - 31.07.2019, 174 из 181 дн.)"
    )
    assert (line.quantity, line.unit_price, line.amount) == (1, D("1038.23"), D("1038.23"))
    assert invoice.total == D("1038.23")
    # the document prints the stored line: the prorated price, not the full one
    page = invoice_documents.invoice_page(invoice).replace("\xa0", " ").replace("\u202f", " ")
    assert "174 из 181 дн." in page and "1 038,23" in page and "1 080,00" not in page
    disk_service = db.session.scalar(
        select(Service).where(Service.product_id == shop[demo.DISK_PRODUCT].id)
    )
    assert disk_service.next_due_date == date(2019, 8, 1) and disk_service.anchor_day == 1
    assert disk_service.recurring_amount == D("1080.00")


def test_billing_day_aligns_the_first_period(shop, client_account) -> None:
    db.session.add(Setting(key="billing_day", value=1))
    client_account.tax_exempt = True
    db.session.commit()
    order = orders.place_order(client_account, [users(shop, 1)], today=date(2019, 1, 15))
    assert order.total == D("443.48")  # 4800.00 x 17 / 184, as docs/billing.md
    orders.accept_order(order, today=date(2019, 1, 15))
    service = db.session.scalar(select(Service))
    assert (service.period_start, service.next_due_date, service.anchor_day) == (
        date(2019, 1, 15),
        date(2019, 2, 1),
        1,
    )
    invoice = db.session.get(Invoice, order.invoice_id)
    assert invoice.lines[0].description.endswith("(15.01.2019 - 31.01.2019, 17 из 184 дн.)")


def test_staff_order_with_price_override_setup_fee_and_no_invoice(
    shop, client_account, staff_member
) -> None:
    pbx = shop[demo.PBX_DEPARTMENT]
    item = CartItem(pbx.id, "monthly", price_override=D("1500.00"))
    order = orders.place_order(
        client_account,
        [item],
        today=TODAY,
        source=OrderSource.STAFF,
        staff_id=staff_member.id,
        generate_invoice=False,
    )
    assert order.items[0].price_override == D("1500.00")
    assert order.subtotal == D("2000.00")  # 1500.00 + the 500.00 setup fee
    orders.accept_order(order, today=TODAY)
    service = db.session.scalar(select(Service))
    assert service.price_override == D("1500.00") and service.recurring_amount == D("1500.00")
    assert order.invoice_id is None and db.session.scalar(select(func.count(Invoice.id))) == 0
    client_item = CartItem(pbx.id, "monthly", price_override=D("1.00"))
    other = make_client(orders.clock(), first_name="Клиент")
    quote = orders.quote_cart(other, [client_item], today=TODAY)
    assert quote.items[0].price == D("2000.00")  # a client cannot override the price


def test_junk_in_the_cart_is_reported_not_raised(shop, client_account) -> None:
    product = shop[demo.USERS_PRODUCT]
    option = product.options[0].id
    junk = [
        CartItem(999999, "monthly"),
        CartItem(product.id, "fortnightly"),
        CartItem(product.id, "annual", {option: 1}),
        CartItem(product.id, "monthly", {option: -1}),
        CartItem(product.id, "monthly", {option: 501}),
    ]
    for item in junk:
        quote = orders.quote_cart(client_account, [item], today=TODAY)
        assert not quote.ok and quote.items[0].error, item
    assert CartItem.from_session({"product_id": "x"}) is None
    assert CartItem.from_session("junk") is None
    with pytest.raises(OrderError):
        orders.place_order(client_account, [], today=TODAY)


def test_order_history_blocks_deleting_the_client(shop, client_account) -> None:
    from portal.accounts import clients

    orders.place_order(client_account, [users(shop, 1)], today=TODAY)
    with pytest.raises(clients.ClientError, match="cannot be deleted"):
        clients.delete_client(client_account)


def test_the_last_unit_in_stock_is_sold_once(shop, client_account, clock) -> None:
    product = shop[demo.USERS_PRODUCT]
    product.stock = 1
    db.session.commit()
    other = make_client(clock)
    first = orders.place_order(client_account, [users(shop, 5)], today=TODAY)
    second = orders.place_order(other, [users(shop, 5)], today=TODAY)
    orders.accept_order(first, today=TODAY)
    db.session.refresh(product)
    assert product.stock == 0
    with pytest.raises(OrderError, match="out of stock"):
        orders.accept_order(second, today=TODAY)
    db.session.refresh(second)
    assert second.status is OrderStatus.PENDING
    assert db.session.scalar(select(func.count(Service.id))) == 1
