"""The admin header counters (issue #17): the figures each counter gives on a small fixture,
counted by the queries shaped for their partial indexes (migration 0031)."""

from datetime import UTC, date, datetime, timedelta

from flask import Flask

from portal.core.extensions import db
from portal.invoicing.invoices import overdue_count
from portal.invoicing.models import Invoice, InvoiceStatus
from portal.orders.models import Order, OrderStatus
from portal.orders.orders import pending_count
from portal.support.models import Ticket, TicketStatus
from portal.support.tickets import awaiting_reply_count

TODAY = date(2026, 11, 2)


def _invoice(client_id: int, status: InvoiceStatus, due: date | None) -> Invoice:
    return Invoice(
        client_id=client_id,
        status=status,
        currency="RUB",
        due_date=due,
        created_at=datetime(2026, 10, 1, tzinfo=UTC),
    )


def test_each_counter_counts_only_what_it_names(app: Flask, clock, client_account) -> None:
    past, future = TODAY - timedelta(days=1), TODAY + timedelta(days=3)
    client_id = client_account.id
    db.session.add_all(
        [
            # overdue: unpaid or partly paid, due before today
            _invoice(client_id, InvoiceStatus.UNPAID, past),
            _invoice(client_id, InvoiceStatus.PARTIALLY_PAID, TODAY - timedelta(days=40)),
            # not overdue: due today or later, paid, cancelled, a draft, in collections
            _invoice(client_id, InvoiceStatus.UNPAID, TODAY),
            _invoice(client_id, InvoiceStatus.UNPAID, future),
            _invoice(client_id, InvoiceStatus.PAID, past),
            _invoice(client_id, InvoiceStatus.CANCELLED, past),
            _invoice(client_id, InvoiceStatus.DRAFT, None),
            _invoice(client_id, InvoiceStatus.COLLECTIONS, past),
        ]
        + [
            Order(client_id=client_id, status=status, currency="RUB", created_at=clock.now())
            for status in (
                OrderStatus.PENDING,
                OrderStatus.PENDING,
                OrderStatus.ACTIVE,
                OrderStatus.CANCELLED,
                OrderStatus.FRAUD,
            )
        ]
    )
    tickets = [
        Ticket(
            reference=f"REF{number}",
            client_id=client_id,
            status=status,
            subject="Вопрос",
            created_at=clock.now(),
            updated_at=clock.now(),
            last_reply_at=clock.now(),
        )
        for number, status in enumerate(
            (
                TicketStatus.OPEN,
                TicketStatus.CUSTOMER_REPLY,
                TicketStatus.OPEN,  # merged into the first below: not counted
                TicketStatus.ANSWERED,
                TicketStatus.ON_HOLD,
                TicketStatus.IN_PROGRESS,
                TicketStatus.CLOSED,
            )
        )
    ]
    db.session.add_all(tickets)
    db.session.flush()
    tickets[2].merged_into_id = tickets[0].id
    db.session.commit()

    assert overdue_count(TODAY) == 2
    assert overdue_count(TODAY + timedelta(days=1)) == 3  # the one due today is overdue tomorrow
    assert pending_count() == 2
    assert awaiting_reply_count() == 2
