"""What the plugin's tests share: a 1C licence sold and paid through the portal's own services."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select

from portal.plugin_api import (
    Invoice,
    InvoiceStatus,
    Product,
    Service,
    Staff,
    record_payment,
    session,
)
from portal.testing import actions
from portal.testing.factories import make_client

LICENCE_PRODUCT = "Пакет лицензий 1С в аренду"


def set_day(clock, day: date) -> None:
    """Move the clock to 09:00 UTC of ``day`` (12:00 in Moscow: the same business date)."""
    clock.set(datetime.combine(day, time(9), tzinfo=UTC))


def licence_product(*, window: int = 60, inactivity: int = 30) -> Product:
    """The demo catalogue's licence package, sold by the 1C module, with its product fields."""
    product = actions.load_demo_catalogue()[LICENCE_PRODUCT]
    product.module = "onec"
    product.plugin_fields = {
        **(product.plugin_fields or {}),
        "onec": {"renewal_window_days": window, "inactivity_days": inactivity},
    }
    session().commit()
    return product


def licence(
    clock,
    *,
    company: str = "ООО «Ромашка»",
    start: date = date(2025, 4, 1),
    manager: Staff | None = None,
    window: int = 60,
    inactivity: int = 30,
) -> Service:
    """An annual licence bought on ``start`` (its period ends a year later, the day before) and
    paid; the client's manager is ``manager``."""
    product = licence_product(window=window, inactivity=inactivity)
    set_day(clock, start)
    client = make_client(clock, company=company)
    if manager is not None:
        client.manager_id = manager.id
        session().commit()
    service, _invoice = actions.order_and_accept(client, product, cycle="annual", today=start)
    pay_all(client)
    return service


def pay_all(client) -> int:
    """Pay every unpaid invoice of the client by bank transfer; returns how many."""
    unpaid = (
        session()
        .scalars(
            select(Invoice).where(
                Invoice.client_id == client.id, Invoice.status == InvoiceStatus.UNPAID
            )
        )
        .all()
    )
    for invoice in unpaid:
        record_payment(
            client,
            amount=invoice.balance,
            method="bank",
            reference=f"test-{invoice.id}",
            invoices=[invoice],
        )
    return len(unpaid)
