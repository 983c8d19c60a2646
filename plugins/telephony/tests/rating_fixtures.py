"""Builders for the rating tests: a tariff, a telecom client with a PBX service and a number,
and Asterisk Master.csv rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from portal_telephony import tariff_admin
from portal_telephony.models import NumberCategory, NumberState, PhoneNumber
from portal_telephony.rating_models import ClientTerms, IncludedMinutes, Tariff

from portal.plugin_api import (
    Client,
    DemoProduct,
    ProductType,
    Service,
    add_demo_products,
    add_demo_service,
    now,
    session,
)
from portal.testing.factories import make_client

D = Decimal
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
NUMBER = "74951110000"


def make_tariff(name: str = "Базовый") -> Tariff:
    """Moscow 7495/7499 at 1.00 a minute, mobile 79 at 2.00 (both 60/60), free under 3 s."""
    return tariff_admin.create_tariff(
        name,
        [
            ("Москва", "local", ("7495", "7499"), {"per_minute": D("1.00")}),
            ("Мобильные", "mobile", ("79",), {"per_minute": D("2.00")}),
        ],
        since=SINCE,
    )


@dataclass
class Line:
    client: Client
    service: Service
    terms: ClientTerms


def make_line(
    clock,
    *,
    prepaid: bool = True,
    number: str = NUMBER,
    account: str = "",
    included_minutes: int = 0,
    email: str = "office@example.com",
    low_balance: str = "100.00",
    cycle: str = "monthly",
    start: date = date(2026, 11, 1),
) -> Line:
    """A client with an active PBX service (Module ``telephony``) holding ``number``, whose
    current period of ``cycle`` started on ``start`` (its anchor day)."""
    prices = {"monthly": "2000.00", "quarterly": "6000.00"}
    product = add_demo_products(
        "Телефония", [DemoProduct("АТС «Отдел»", ProductType.SERVICE, "telephony", prices)]
    )["АТС «Отдел»"]
    client = make_client(clock, email=email) if email else make_client(clock)
    service = add_demo_service(client, product, cycle=cycle, start=start)
    service.username = account
    moment = now()
    if session().get(NumberCategory, "ordinary") is None:  # the test database is wiped
        session().add(
            NumberCategory(
                code="ordinary", rank=0, connection_fee=D("2200.00"), monthly_fee=D("970.00")
            )
        )
        session().flush()
    session().add(
        PhoneNumber(
            number=number,
            category="ordinary",
            state=NumberState.ASSIGNED.value,
            client_id=client.id,
            service_id=service.id,
            changed_at=moment,
            created_at=moment,
        )
    )
    if (
        included_minutes
        and not session().query(IncludedMinutes).filter_by(product_id=product.id).count()
    ):
        session().add(
            IncludedMinutes(product_id=product.id, minutes=included_minutes, groups="local")
        )
    session().commit()
    terms = tariff_admin.save_terms(client.id, prepaid=prepaid, low_balance=D(low_balance))
    return Line(client, service, terms)


def master_row(
    uniqueid: str,
    *,
    src: str = NUMBER,
    dst: str = "84951234567",
    start: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
    billsec: int = 60,
    account: str = "",
    disposition: str = "ANSWERED",
) -> str:
    """One Master.csv line (times in UTC, as ``usegmtime=yes`` writes them)."""
    begin = start.strftime("%Y-%m-%d %H:%M:%S")
    end = (start + timedelta(seconds=billsec + 5)).strftime("%Y-%m-%d %H:%M:%S")
    return (
        f'"{account}","{src}","{dst}","from-internal","""Офис"" <{src}>","SIP/100-0001",'
        f'"SIP/trunk-0002","Dial","SIP/trunk/{dst}","{begin}","{begin}","{end}",'
        f'"{billsec + 5}","{billsec}","{disposition}","DOCUMENTATION","{uniqueid}",""\n'
    )


def write_master(path: Path, rows: list[str]) -> Path:
    path.write_text("".join(rows), encoding="utf-8")
    return path
