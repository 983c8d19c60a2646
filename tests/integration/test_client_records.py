"""What a client merge moves and what counts as history, as the areas' built-in plugins
register it (``register_client_records``): services, orders, invoices, payments, credit and
tickets follow the client; a clash of products refuses the merge before anything moves."""

from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from portal.accounts import clients
from portal.accounts.models import Client, Department, Note
from portal.core.extensions import db
from portal.invoicing import payments
from portal.invoicing.models import CreditEntry, Invoice, Payment
from portal.orders.models import Order, Service
from portal.platform import demo
from portal.support import tickets
from portal.support.models import Ticket
from portal.testing.factories import make_client
from tests.integration.test_overdue import BOUGHT, buy


@pytest.fixture
def shop(app: Flask):
    products = demo.load_demo_catalogue()
    db.session.commit()
    return products


def order_of(service: Service) -> Order:
    return db.session.scalar(select(Order).where(Order.client_id == service.client_id))


def owners(model, ids) -> set[int]:
    return set(db.session.scalars(select(model.client_id).where(model.id.in_(ids))))


def test_merge_moves_services_orders_money_and_tickets(shop, clock, staff_member) -> None:
    target, source = make_client(clock), make_client(clock, company="ООО Дубль")
    assert not clients.has_financial_history(source.id)
    order = order_of(buy(shop, source))
    assert clients.has_financial_history(source.id)  # an order is history
    invoice = db.session.get(Invoice, order.invoice_id)
    payment = payments.record_payment(
        source,
        amount=invoice.balance + Decimal("100.00"),  # the rest is credit
        method="bank",
        reference="п/п 5",
        payment_date=BOUGHT,
        invoices=[invoice],
    )
    department = Department(name="Поддержка", email="support@portal.test")
    db.session.add(department)
    db.session.commit()
    ticket = tickets.open_ticket(
        subject="Вопрос", body="Текст", department_id=department.id, client=source
    )
    target_id, source_id = target.id, source.id
    service_id = order.items[0].service_id
    credit_ids = list(db.session.scalars(select(CreditEntry.id)))

    clients.merge_clients(target, source, staff_id=staff_member.id)

    db.session.expire_all()
    assert db.session.get(Client, source_id) is None
    assert owners(Service, [service_id]) == {target_id}
    assert owners(Order, [order.id]) == {target_id}
    assert owners(Invoice, [invoice.id]) == {target_id}
    assert owners(Payment, [payment.id]) == {target_id}
    assert credit_ids and owners(CreditEntry, credit_ids) == {target_id}
    assert owners(Ticket, [ticket.id]) == {target_id}
    assert clients.has_financial_history(target_id)


def test_a_clash_of_products_refuses_the_merge_before_anything_moves(shop, clock) -> None:
    target, source = make_client(clock), make_client(clock)
    buy(shop, target)
    order = order_of(buy(shop, source))
    db.session.add(Note(client_id=source.id, body="заметка", created_at=clock.now()))
    db.session.commit()
    source_id = source.id

    with pytest.raises(clients.ClientError, match="Both clients have the same product"):
        clients.merge_clients(target, source, staff_id=None)

    db.session.expire_all()
    assert db.session.get(Client, source_id) is not None
    assert owners(Order, [order.id]) == {source_id}
    assert owners(Invoice, [order.invoice_id]) == {source_id}
    assert set(db.session.scalars(select(Note.client_id))) == {source_id}


def test_issued_invoices_are_history_drafts_are_not(app, clock) -> None:
    from portal import billing
    from portal.invoicing import invoices

    client = make_client(clock)
    line = billing.charge_line("Услуга", Decimal("100.00"), "RUB")
    draft = invoices.create_draft(client, [(line, None)])
    db.session.commit()
    assert not clients.has_financial_history(client.id)
    invoices.issue_invoice(draft, today=BOUGHT)
    assert clients.has_financial_history(client.id)
