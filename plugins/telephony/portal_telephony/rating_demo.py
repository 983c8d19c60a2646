"""Demo data of the rating side (``portal demo``): a tariff (Moscow, Russian mobile, a few
international destinations) with a package of included minutes on the demo plans, prepaid
terms for the demo client, and a month of calls from its numbers rated through the same
import as real CDRs (so the calls page, the balance and the reports have something to show).
Idempotent: the calls' ids are fixed, a second run rates nothing again."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.plugin_api import Client, Product, add_credit, credit_balance, session
from portal_telephony import tariff_admin
from portal_telephony.cdr_import import import_json
from portal_telephony.rating_models import ClientTerms, IncludedMinutes, Tariff

#: name, group, prefixes, per minute, first/next increment, connect fee
DESTINATIONS = (
    ("Москва", "Местные", ("7495", "7499"), "0.90", (60, 60), "0.00"),
    ("Мобильные РФ", "Мобильные", ("79",), "2.40", (1, 1), "0.00"),
    ("Междугородние РФ", "Междугородние", ("73", "74", "78"), "3.50", (60, 1), "0.00"),
    ("Великобритания", "Международные", ("44",), "12.00", (30, 30), "1.00"),
    ("Германия", "Международные", ("49",), "11.00", (30, 30), "1.00"),
)
SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def tariff() -> Tariff:
    found = session().scalar(select(Tariff).where(Tariff.name == "Базовый"))
    if found:
        return found
    return tariff_admin.create_tariff(
        "Базовый",
        [
            (
                name,
                group,
                prefixes,
                {
                    "per_minute": Decimal(price),
                    "connect_fee": Decimal(fee),
                    "first_increment": first,
                    "next_increment": step,
                    "night_per_minute": Decimal(price) / 2,
                },
            )
            for name, group, prefixes, price, (first, step), fee in DESTINATIONS
        ],
        since=SINCE,
    )


def load(client: Client, numbers: list[str], plans: list[Product], today: date) -> None:
    """The tariff, 100 included local minutes on ``plans``, prepaid terms for ``client`` with
    1 500.00 of credit, and 60 calls over the last 30 days from ``numbers``."""
    tariff()
    for plan in plans:
        if (
            session().scalar(select(IncludedMinutes).where(IncludedMinutes.product_id == plan.id))
            is None
        ):
            session().add(IncludedMinutes(product_id=plan.id, minutes=100, groups="Местные"))
    if session().get(ClientTerms, client.id) is None:
        tariff_admin.save_terms(client.id, prepaid=True, low_balance=Decimal("200.00"))
        if credit_balance(client) <= 0:
            add_credit(client, Decimal("1500.00"), description="Демо: пополнение баланса")
    session().commit()
    rng = random.Random(18)
    dialled = ("8495", "8916", "8903", "8812", "810442071", "810493012")
    cdrs = []
    for index in range(60):
        day = today - timedelta(days=30 - index // 2)
        start = datetime.combine(day, time(6 + rng.randrange(12), rng.randrange(60)), tzinfo=UTC)
        prefix = dialled[index % len(dialled)]
        digits = 11 - len(prefix) if len(prefix) == 4 else 6  # 8 495 ... or 810 44 207 ...
        cdrs.append(
            {
                "id": f"demo-{index}",
                "src": numbers[index % len(numbers)],
                "dst": prefix + "".join(rng.choices("0123456789", k=digits)),
                "start": start.isoformat(),
                "billsec": rng.choice((2, 45, 61, 125, 300, 610)),
                "disposition": "ANSWERED",
            }
        )
    import_json(cdrs, source="demo")
