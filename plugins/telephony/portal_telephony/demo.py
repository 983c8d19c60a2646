"""The telephony demo (``portal demo``, run by ``make run``): a PBX catalogue in RUB (two plans
with seats, a SIP trunk, an add-on per plan), a pool of Moscow numbers of every category, and a
telecom client with the «Отдел» plan, two extra seats and two numbers. Idempotent: only what is
missing is created. Then :mod:`portal_telephony.rating_demo` adds the tariff, included minutes,
prepaid terms with a balance, and a month of calls from the client's numbers rated by the CDR
import.
"""

from __future__ import annotations

from datetime import date

from portal.billing import Cycle, add_months
from portal.plugin_api import (
    DemoOption,
    DemoProduct,
    ProductType,
    Service,
    add_demo_client,
    add_demo_products,
    add_demo_service,
    session,
)
from portal_telephony import numbers
from portal_telephony.models import PhoneNumber
from portal_telephony.settings import ADDON, PLAN, PLUGIN, TRUNK

EMAIL = "telecom@example.com"
PASSWORD = "demo-client-password"  # noqa: S105 - printed by portal demo
COMPANY = "ООО «Связь-Сервис»"
GROUP = "Виртуальная АТС"

DEPARTMENT = "ВАТС «Отдел»"
OFFICE = "ВАТС «Офис»"
TRUNK_NAME = "SIP-транк"
RECORDING_DEPARTMENT = "Запись разговоров — «Отдел»"
RECORDING_OFFICE = "Запись разговоров — «Офис»"

#: The pool of the demo: 200 Moscow numbers (every category occurs), plus two gold and a
#: platinum one.
RANGES = ("74957001000..74957001199", "74957002233", "74957005566", "74957777777")
CLIENT_NUMBERS = ("74957001005", "74957002233")


def _fields(kind: str, **values: object) -> dict[str, dict[str, object]]:
    return {PLUGIN: {"kind": kind, **values}}


def _seats(price: str) -> DemoOption:
    return DemoOption("Дополнительные пользователи", "польз.", {"monthly": price}, minimum=0)


CATALOGUE = (
    DemoProduct(
        DEPARTMENT,
        ProductType.USAGE,
        PLUGIN,
        {"monthly": "2000.00"},
        "Виртуальная АТС: 6 пользователей включены, каждый следующий — 300 ₽ в месяц.",
        option=_seats("300.00"),
        upgrades_to=(OFFICE,),
        plugin_fields=_fields(PLAN, included_seats=6),
    ),
    DemoProduct(
        OFFICE,
        ProductType.USAGE,
        PLUGIN,
        {"monthly": "4500.00"},
        "Виртуальная АТС: 12 пользователей включены, каждый следующий — 250 ₽ в месяц.",
        option=_seats("250.00"),
        upgrades_to=(DEPARTMENT,),
        plugin_fields=_fields(PLAN, included_seats=12),
    ),
    DemoProduct(
        TRUNK_NAME,
        ProductType.SERVICE,
        PLUGIN,
        {"monthly": "1500.00"},
        "SIP-транк для вашей АТС: 30 одновременных линий.",
        plugin_fields=_fields(TRUNK),
    ),
    DemoProduct(
        RECORDING_DEPARTMENT,
        ProductType.SERVICE,
        PLUGIN,
        {"monthly": "500.00"},
        "Запись и хранение разговоров 90 дней, для тарифа «Отдел».",
        plugin_fields=_fields(ADDON, plans=DEPARTMENT),
    ),
    DemoProduct(
        RECORDING_OFFICE,
        ProductType.SERVICE,
        PLUGIN,
        {"monthly": "800.00"},
        "Запись и хранение разговоров 90 дней, для тарифа «Офис».",
        plugin_fields=_fields(ADDON, plans=OFFICE),
    ),
)


def load(today: date) -> list[str]:
    """The demo catalogue, pool and client; returns the lines ``portal demo`` prints."""
    products = add_demo_products(GROUP, CATALOGUE, sort_order=30)
    session().commit()
    numbers.import_numbers(RANGES, actor="demo")
    client = add_demo_client(
        email=EMAIL,
        password=PASSWORD,
        first_name="Ольга",
        last_name="Связистова",
        company=COMPANY,
    )
    plan = products[DEPARTMENT]
    seats_option = plan.options[0]
    first = today.replace(day=1)
    start = add_months(first, -1, 1) if today.day < 15 else first
    service = add_demo_service(
        client, plan, cycle=Cycle.MONTHLY.value, start=start, quantities={seats_option.id: 2}
    )
    session().commit()
    _give_numbers(service)
    from portal_telephony import rating_demo

    plans = [products[name] for name in (DEPARTMENT,)]
    rating_demo.load(client, list(CLIENT_NUMBERS), plans, today)
    return [
        f"telephony    {EMAIL:<24} password: {PASSWORD} ({DEPARTMENT}, 8 users, 2 numbers,"
        " rated calls)"
    ]


def _give_numbers(service: Service) -> None:
    for index, digits in enumerate(CLIENT_NUMBERS):
        number = session().query(PhoneNumber).filter_by(number=digits).one()
        if number.state == "free":
            numbers.assign(
                number.id, service, actor="demo", extension=str(101 + index), provision=False
            )
