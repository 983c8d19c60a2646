"""Set-up shared by the additional-charge tests and the acceptance test: a 1C tariff of the demo
catalogue (5 concurrent sessions, 2 bases; 500.00 per extra session and 1 000.00 per extra base
a month), a client who bought it, bases of the tariff and the usage the cloud reported."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from portal_onec.models import InformationBase, Organisation
from portal_onec.renewal_models import BaseUsage
from sqlalchemy import select

from portal.plugin_api import Client, Invoice, Product, Service, record_payment, session
from portal.testing import actions
from portal.testing.factories import make_client

TARIFF = "Доступ на пользователя «Стандарт»"
SESSION_PRICE = Decimal("500.00")
BASE_PRICE = Decimal("1000.00")


def tariff(sessions: int = 5, bases: int = 2, **charges: object) -> Product:
    """The demo users product as a 1C tariff with limits and overage prices."""
    product = actions.load_demo_catalogue()[TARIFF]
    product.module = "onec"
    session().commit()
    actions.save_product_values(
        product,
        "onec",
        {
            "kind": "sessions",
            "product_line": "",
            "bases_limit": bases,
            "sessions_limit": sessions,
            "renewal_window_days": 60,
            "inactivity_days": 30,
        },
    )
    values = {
        "session_price": str(SESSION_PRICE),
        "base_price": str(BASE_PRICE),
        "days_to_pay": 30,
        "postpaid": False,
        **charges,
    }
    actions.save_product_values(product, "onec_charges", values)
    return product


def pay(invoice: Invoice, reference: str, on: date) -> None:
    record_payment(
        session().get(Client, invoice.client_id),
        amount=invoice.balance,
        method="bank",
        reference=reference,
        payment_date=on,
        invoices=[invoice],
    )


def bought(clock, product: Product, on: date, client: Client | None = None) -> Service:
    """A client (tax exempt, so amounts are plain) orders the tariff and pays its invoice."""
    customer = client or make_client(clock, company="ООО «Облако»")
    customer.tax_exempt = True
    session().commit()
    service, invoice = actions.order_and_accept(
        customer, product, cycle="monthly", options={product.options[0].id: 5}, today=on
    )
    if invoice is not None:
        pay(invoice, f"заказ {service.id}", on)
    return service


def bases_of(service: Service, *names: str, created: date | None = None) -> list[InformationBase]:
    """The client's primary organisation (made once) with ``names`` bases under the service,
    created on ``created`` (default: the day the service was registered)."""
    made = datetime.combine(created or service.registration_date, time(12), UTC)
    organisation = session().scalar(
        select(Organisation).where(
            Organisation.client_id == service.client_id, Organisation.is_primary
        )
    ) or Organisation(
        client_id=service.client_id,
        name="ООО «Облако»",
        inn="7707083893",
        kpp="770701001",
        is_primary=True,
        created_at=made,
    )
    session().add(organisation)
    session().flush()
    found = []
    for name in names:
        base = InformationBase(
            organisation_id=organisation.id,
            service_id=service.id,
            name=name,
            configuration="Бухгалтерия предприятия",
            state="active",
            created_at=made,
        )
        session().add(base)
        found.append(base)
    session().commit()
    return found


def used(base: InformationBase, day: date, *logins: str) -> None:
    """What the cloud's export reported for ``base`` on ``day``: the logins seen."""
    for login in logins:
        session().add(
            BaseUsage(
                base_id=base.id,
                login=login,
                day=day,
                sessions=3,  # opened three times that day: still one seat
                last_seen_at=datetime.combine(day, time(18), UTC),
            )
        )
    session().commit()
