"""Two billing runs for different dates at the same time (issue #14, item 5): on SQLite they
take turns batch by batch, every period billed has its invoice line, none twice, and no service
is left with periods billed ahead of its dates (which would make every later run skip it)."""

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, insert, select

from portal.accounts.models import Client
from portal.catalog.models import Product, ProductGroup, ProductPrice
from portal.core.extensions import db
from portal.invoicing.billing_run import bill_due
from portal.invoicing.models import BilledPeriod, Invoice, InvoiceLine
from portal.orders.models import Service
from portal.testing.concurrency import billing_run, run_in_processes

SERVICES = 200
EARLY, LATE = "2026-02-25", "2026-04-25"  # bill up to March, up to May (windows of 7 days)
PERIODS = 5  # January to May


def seed(n: int) -> None:
    """``n`` clients with a monthly service each, due since 01.01.2026 (bulk inserts)."""
    product = Product(group=ProductGroup(name="Хостинг"), name="VPS", tax_inclusive=False)
    product.prices.append(ProductPrice(currency="RUB", cycle="monthly", price=Decimal("990.00")))
    db.session.add(product)
    db.session.commit()
    now = datetime(2025, 12, 1, tzinfo=UTC)
    db.session.execute(
        insert(Client),
        [
            {
                "email": f"client{i}@overlap.example",
                "password_hash": "x",
                "session_token": f"t{i}",
                "first_name": f"Клиент {i}",
                "created_at": now,
                "separate_invoices": i % 3 == 0,
            }
            for i in range(n)
        ],
    )
    ids = db.session.scalars(select(Client.id).order_by(Client.id)).all()
    db.session.execute(
        insert(Service),
        [
            {
                "client_id": client_id,
                "product_id": product.id,
                "status": "active",
                "cycle": "monthly",
                "currency": "RUB",
                "registration_date": date(2025, 12, 1),
                "period_start": date(2025, 12, 1),
                "next_due_date": date(2026, 1, 1),
                "anchor_day": 1,
                "recurring_amount": Decimal("990.00"),
                "created_at": now,
            }
            for client_id in ids
        ],
    )
    db.session.commit()


def test_two_runs_for_different_dates_at_once_lose_nothing(
    app, clock, portal_database_url, tmp_path
) -> None:
    seed(SERVICES)
    together = (str(tmp_path / "barrier"), 2)
    args = [
        (portal_database_url, str(tmp_path / "early"), EARLY, 2, 0, None, together),
        (portal_database_url, str(tmp_path / "late"), LATE, 2, 0, None, together),
    ]
    run_in_processes(billing_run, args)

    db.session.expire_all()
    # every billed period is on an invoice line, and the service's dates are past it
    orphans = db.session.scalar(
        select(func.count(BilledPeriod.id)).where(BilledPeriod.invoice_id.is_(None))
    )
    assert orphans == 0
    ahead = db.session.scalar(
        select(func.count(BilledPeriod.id))
        .join(Service, Service.id == BilledPeriod.service_id)
        .where(BilledPeriod.period_start >= Service.next_due_date)
    )
    assert ahead == 0

    # a third run bills what is left: every service through May, each period once
    bill_due(date.fromisoformat(LATE))
    db.session.expire_all()
    assert set(db.session.scalars(select(Service.next_due_date))) == {date(2026, 6, 1)}
    lines = db.session.execute(select(InvoiceLine.service_id, InvoiceLine.period_start)).all()
    assert len(lines) == len(set(lines)) == SERVICES * PERIODS
    assert db.session.scalar(select(func.count(BilledPeriod.id))) == SERVICES * PERIODS
    numbers = sorted(db.session.scalars(select(Invoice.sequence)))
    assert numbers == list(range(1, len(numbers) + 1))


def test_a_renewal_another_run_billed_in_part_gives_its_claims_back(app, clock) -> None:
    seed(2)
    first, second = db.session.scalars(select(Service).order_by(Service.id)).all()
    # as if another run had billed February of the first service and not yet moved its dates
    db.session.add(
        BilledPeriod(
            service_id=first.id,
            period_start=date(2026, 2, 1),
            period_end=date(2026, 3, 1),
            created_at=clock.now(),
        )
    )
    db.session.commit()

    report = bill_due(date.fromisoformat(EARLY))  # January to March

    db.session.expire_all()
    assert report.services == 1  # the second one; the first is left as it was
    claimed = db.session.scalars(
        select(BilledPeriod.period_start).where(BilledPeriod.service_id == first.id)
    ).all()
    assert claimed == [date(2026, 2, 1)]  # January and March given back
    assert db.session.get(Service, first.id).next_due_date == date(2026, 1, 1)
    assert db.session.get(Service, second.id).next_due_date == date(2026, 4, 1)
