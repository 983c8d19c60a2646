"""The 1C demo (``portal demo``, run by ``make run``): a client of the 1C cloud with two
organisations, bases with users, a 1C catalogue in RUB (tariffs, a base, licences of two
product lines) and the client's services. Idempotent: only what is missing is created.

Then ``portal_onec.renewal_demo`` adds the usage of the bases and runs the renewal job: the ИТС
licence (ending within its renewal window on any day the demo is loaded) is in the renewal
queue, the St Petersburg organisation's 1С-Отчётность licence is an inactive client.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.billing import Cycle, next_due
from portal.plugin_api import (
    DemoProduct,
    ProductType,
    Service,
    add_demo_client,
    add_demo_products,
    add_demo_service,
    now,
    session,
)
from portal_onec import renewal_demo
from portal_onec.charge_settings import CHARGES, DAYS_TO_PAY
from portal_onec.licences import ensure_licence
from portal_onec.models import BaseAccess, BaseState, BaseUser, InformationBase, Organisation
from portal_onec.settings import BASE, LICENCE, PLUGIN, SESSIONS

EMAIL = "onec@example.com"
PASSWORD = "demo-client-password"  # noqa: S105 - printed by portal demo
COMPANY = "ООО «Бухучёт»"
GROUP = "1С в облаке"

TARIFF_START = "1С:Облако «Старт»"
TARIFF_BUSINESS = "1С:Облако «Бизнес»"
EXTRA_BASE = "1С:Облако — дополнительная база"
ITS = "1С:ИТС ПРОФ"
REPORTING = "1С-Отчётность"


def _fields(kind: str, **values: object) -> dict[str, dict[str, object]]:
    return {PLUGIN: {"kind": kind, **values}}


def _charges(**prices: str) -> dict[str, dict[str, object]]:
    """A tariff's prices above its limits, per month (the additional charges' product fields)."""
    return {CHARGES: {**prices, "days_to_pay": DAYS_TO_PAY, "postpaid": False}}


CATALOGUE = (
    DemoProduct(
        TARIFF_START,
        ProductType.SERVICE,
        PLUGIN,
        {"monthly": "3000.00", "semi_annual": "16200.00"},
        "До 2 информационных баз и 5 одновременных сеансов.",
        upgrades_to=(TARIFF_BUSINESS,),
        plugin_fields={
            **_fields(SESSIONS, bases_limit=2, sessions_limit=5),
            **_charges(session_price="600.00", base_price="1500.00"),
        },
    ),
    DemoProduct(
        TARIFF_BUSINESS,
        ProductType.SERVICE,
        PLUGIN,
        {"monthly": "7500.00", "semi_annual": "40500.00"},
        "До 5 информационных баз и 15 одновременных сеансов.",
        upgrades_to=(TARIFF_START,),
        plugin_fields={
            **_fields(SESSIONS, bases_limit=5, sessions_limit=15),
            **_charges(session_price="500.00", base_price="1200.00"),
        },
    ),
    DemoProduct(
        EXTRA_BASE,
        ProductType.SERVICE,
        PLUGIN,
        {"monthly": "500.00"},
        "Ещё одна информационная база сверх тарифа.",
        plugin_fields=_fields(BASE, bases_limit=1),
    ),
    DemoProduct(
        ITS,
        ProductType.LICENCE,
        PLUGIN,
        {"annual": "38000.00", "semi_annual": "19800.00"},
        "Информационно-технологическое сопровождение: обновления и поддержка 1С.",
        plugin_fields=_fields(LICENCE, product_line="1С:ИТС", renewal_window_days=60),
    ),
    DemoProduct(
        REPORTING,
        ProductType.LICENCE,
        PLUGIN,
        {"annual": "5400.00"},
        "Отчётность в ФНС, СФР и Росстат из 1С.",
        plugin_fields=_fields(LICENCE, product_line="1С-Отчётность", renewal_window_days=45),
    ),
)

#: (name, INN, KPP): made-up organisations with valid check digits.
ORGANISATIONS = (
    ("ООО «Бухучёт»", "7701234560", "770101001"),
    ("ООО «Бухучёт Северо-Запад»", "7812345675", "781201001"),
)
#: (organisation index, base name, configuration, user logins)
BASES = (
    (0, "Бухгалтерия", "Бухгалтерия предприятия", ("ivanova", "petrov")),
    (0, "Зарплата", "Зарплата и управление персоналом", ("ivanova",)),
    (1, "Торговля СПб", "Управление торговлей", ("smirnov",)),
)
USERS = {
    "ivanova": "Иванова Мария Сергеевна",
    "petrov": "Петров Олег Иванович",
    "smirnov": "Смирнов Андрей Павлович",
}


def load(today: date) -> list[str]:
    """Create what is missing of the 1C demo; commits. Returns the login to print."""
    products = add_demo_products(GROUP, CATALOGUE)
    client = add_demo_client(
        email=EMAIL,
        password=PASSWORD,
        first_name="Мария",
        last_name="Иванова",
        company=COMPANY,
        language="ru",
    )
    month_start = today.replace(day=1)
    tariff = add_demo_service(
        client, products[TARIFF_BUSINESS], cycle=Cycle.MONTHLY.value, start=month_start
    )
    organisations = _organisations(client.id)
    _bases(client.id, organisations, tariff)
    _licences(client, products, organisations, month_start)
    session().commit()
    renewal_demo.load(today, client)
    return [f"1C client    {EMAIL:<24} password: {PASSWORD}"]


def _organisations(client_id: int) -> list[Organisation]:
    found = list(
        session().scalars(
            select(Organisation)
            .where(Organisation.client_id == client_id)
            .order_by(Organisation.id)
        )
    )
    if found:
        return found
    for n, (name, inn, kpp) in enumerate(ORGANISATIONS):
        organisation = Organisation(
            client_id=client_id, name=name, inn=inn, kpp=kpp, is_primary=n == 0, created_at=now()
        )
        session().add(organisation)
        found.append(organisation)
    session().flush()
    return found


def _bases(client_id: int, organisations: list[Organisation], tariff: Service) -> None:
    exists = session().scalar(
        select(InformationBase.id).where(
            InformationBase.organisation_id.in_([o.id for o in organisations])
        )
    )
    if exists is not None:
        return
    users: dict[str, BaseUser] = {}
    for login, full_name in USERS.items():
        users[login] = BaseUser(
            client_id=client_id, login=login, full_name=full_name, created_at=now()
        )
        session().add(users[login])
    for index, name, configuration, logins in BASES:
        base = InformationBase(
            organisation_id=organisations[index].id,
            service_id=tariff.id,
            name=name,
            configuration=configuration,
            state=BaseState.ACTIVE.value,
            created_at=now(),
        )
        session().add(base)
        session().flush()
        for login in logins:
            session().add(BaseAccess(base_id=base.id, user_id=users[login].id, created_at=now()))
    session().flush()


def _licences(
    client: object, products: dict, organisations: list[Organisation], month_start: date
) -> None:
    """ИТС for the first organisation, bought a year ago this coming month: it ends on the 1st
    of next month, inside its 60-day renewal window; 1С-Отчётность for the second, bought this
    month."""
    its_start = next_due(month_start, Cycle.MONTHLY, -11)
    its = add_demo_service(client, products[ITS], cycle=Cycle.ANNUAL.value, start=its_start)
    licence = ensure_licence(its, organisations[0].id)
    if not licence.registration_number:
        licence.registration_number = "ИТС-800123456"
    reporting = add_demo_service(
        client, products[REPORTING], cycle=Cycle.ANNUAL.value, start=month_start
    )
    ensure_licence(reporting, organisations[1].id)
    session().flush()
