"""Demo data for a first look: a staff administrator, a client that is a company with valid
requisites, a priced catalogue, a service of the client's to try the upgrade preview on with
its paid invoice, and a second client billed monthly over the last months, so that the income
and MRR reports and their charts have something to show. Running it again changes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from portal import billing
from portal.accounts import requisites
from portal.accounts.models import Client, Department, Staff
from portal.accounts.sign_in import create_staff, register_client
from portal.accounts.staff import ensure_builtin_roles, give_builtin_role
from portal.catalog import catalog
from portal.catalog.models import (
    Addon,
    AddonPrice,
    ConfigOption,
    ConfigOptionPrice,
    OptionKind,
    Product,
    ProductGroup,
    ProductPrice,
    ProductType,
    UpgradePath,
)
from portal.core.app_state import clock as app_clock
from portal.core.app_state import plugins as app_plugins
from portal.core.clock import Clock, today
from portal.core.extensions import db
from portal.invoicing import invoices, payments
from portal.invoicing.models import BilledPeriod, Invoice
from portal.orders.models import PromoCode, PromoCodeKind, Service, ServiceOption, ServiceStatus

DEMO_STAFF = ("admin@example.com", "demo-admin-password")
DEMO_CLIENT = ("client@example.com", "demo-client-password")
DEMO_LOGINS = (
    ("admin area", *DEMO_STAFF),
    ("client area", *DEMO_CLIENT),
)

D = Decimal
USERS_PRODUCT = "Доступ на пользователя «Стандарт»"
DISK_PRODUCT = "Пакет дискового пространства 5ГБ"
LICENCES_PRODUCT = "Пакет лицензий 1С в аренду"
PBX_OFFICE = "Виртуальная АТС «Офис»"
PBX_DEPARTMENT = "Виртуальная АТС «Отдел»"


@dataclass(frozen=True)
class DemoOption:
    name: str
    unit: str
    prices: dict[str, str]
    minimum: int = 1
    maximum: int | None = None


@dataclass(frozen=True)
class DemoProduct:
    name: str
    type: ProductType
    module: str | None
    prices: dict[str, str]
    description: str = ""
    option: DemoOption | None = None
    upgrades_to: tuple[str, ...] = ()
    setup_fees: dict[str, str] = field(default_factory=dict)
    #: ``{plugin: {field: value}}``: the plugins' product fields (``register_product_fields``).
    plugin_fields: dict[str, dict[str, Any]] = field(default_factory=dict)


DEMO_CATALOGUE: dict[str, list[DemoProduct]] = {
    "1С в облаке": [
        DemoProduct(
            USERS_PRODUCT,
            ProductType.SERVICE,
            None,
            {"semi_annual": "0", "monthly": "0"},
            "Работа в 1С через интернет, цена за пользователя.",
            DemoOption(
                "Количество пользователей",
                "Пользователь",
                {"semi_annual": "4800.00", "monthly": "800.00"},
                maximum=500,
            ),
        ),
        DemoProduct(
            LICENCES_PRODUCT,
            ProductType.LICENCE,
            "onec",
            {"semi_annual": "12825.00", "annual": "24000.00"},
            "Лицензии 1С:Предприятие в аренду на срок подписки.",
        ),
    ],
    "Хостинг": [
        DemoProduct(
            DISK_PRODUCT,
            ProductType.SERVICE,
            "diskspace",
            {"semi_annual": "0", "monthly": "0"},
            "Дисковое пространство пакетами по 5 ГБ: 15 ГБ — это 3 пакета.",
            DemoOption(
                "Пакеты по 5 ГБ",
                "пакет",
                {"semi_annual": "360.00", "monthly": "60.00"},
                maximum=200,
            ),
        ),
    ],
    "Телефония": [
        DemoProduct(
            PBX_OFFICE,
            ProductType.USAGE,
            "telephony",
            {"monthly": "4500.00"},
            "Виртуальная АТС на 12 пользователей.",
            upgrades_to=(PBX_DEPARTMENT,),
        ),
        DemoProduct(
            PBX_DEPARTMENT,
            ProductType.USAGE,
            "telephony",
            {"monthly": "2000.00"},
            "Виртуальная АТС на 6 пользователей.",
            upgrades_to=(PBX_OFFICE,),
            setup_fees={"monthly": "500.00"},
        ),
    ],
}
DEMO_ADDON = ("Резервное копирование базы 1С", {"semi_annual": "1800.00", "monthly": "300.00"})
DEMO_PROMO = ("REF5", "Скидка для референсных клиентов 5%")


def add_demo_products(
    group_name: str, items: Sequence[DemoProduct], sort_order: int = 100
) -> dict[str, Product]:
    """Create the products of ``items`` in the group (created if missing) with their prices in
    RUB, option, plugin fields and upgrade paths among them; a product already there keeps
    what staff set. Returns the products by name. Joins the transaction."""
    group = db.session.scalar(select(ProductGroup).where(ProductGroup.name == group_name))
    if group is None:
        group = ProductGroup(name=group_name, sort_order=sort_order)
        db.session.add(group)
    products: dict[str, Product] = {}
    for position, item in enumerate(items):
        product = db.session.scalar(select(Product).where(Product.name == item.name))
        if product is None:
            product = Product(
                name=item.name,
                type=item.type,
                module=item.module,
                group=group,
                sort_order=position,
            )
            db.session.add(product)
        if not product.description:
            product.description = item.description
        if item.plugin_fields and not product.plugin_fields:
            product.plugin_fields = {k: dict(v) for k, v in item.plugin_fields.items()}
        if not product.prices:
            for cycle, price in item.prices.items():
                fee = D(item.setup_fees.get(cycle, "0"))
                product.prices.append(
                    ProductPrice(currency="RUB", cycle=cycle, price=D(price), setup_fee=fee)
                )
        if item.option is not None and not product.options:
            option = ConfigOption(
                name=item.option.name,
                kind=OptionKind.QUANTITY,
                unit=item.option.unit,
                minimum=item.option.minimum,
                maximum=item.option.maximum,
                step=1,
            )
            option.prices = [
                ConfigOptionPrice(currency="RUB", cycle=cycle, price=D(price))
                for cycle, price in item.option.prices.items()
            ]
            product.options.append(option)
        products[item.name] = product
    db.session.flush()
    for item in items:
        for target in item.upgrades_to:
            source = products[item.name]
            to = products.get(target) or db.session.scalar(
                select(Product).where(Product.name == target)
            )
            if to is None:
                raise ValueError(f"{item.name} upgrades to {target}, which does not exist")
            exists = db.session.scalar(
                select(UpgradePath.id).where(
                    UpgradePath.from_product_id == source.id, UpgradePath.to_product_id == to.id
                )
            )
            if exists is None:
                db.session.add(UpgradePath(from_product_id=source.id, to_product_id=to.id))
    db.session.flush()
    return products


def load_demo_catalogue() -> dict[str, Product]:
    """Create the demo products with prices, options, an add-on, upgrade paths and a promo
    code; products already there keep what staff set. Returns the products by name."""
    products: dict[str, Product] = {}
    for n, (group_name, items) in enumerate(DEMO_CATALOGUE.items()):
        products.update(add_demo_products(group_name, items, n))
    if db.session.scalar(select(Addon.id).where(Addon.name == DEMO_ADDON[0])) is None:
        addon = Addon(name=DEMO_ADDON[0], description="Ежедневная копия базы, хранится 30 дней.")
        addon.prices = [
            AddonPrice(currency="RUB", cycle=c, price=D(p)) for c, p in DEMO_ADDON[1].items()
        ]
        addon.products = [products[USERS_PRODUCT]]
        db.session.add(addon)
    if db.session.scalar(select(PromoCode.id).where(PromoCode.code == DEMO_PROMO[0])) is None:
        db.session.add(
            PromoCode(
                code=DEMO_PROMO[0],
                kind=PromoCodeKind.PERCENT,
                value=D("5"),
                description=DEMO_PROMO[1],
                product_ids=[],
                cycles=[],
                created_at=app_clock().now(),
            )
        )
    db.session.flush()
    return products


def _demo_service(client: Client, product: Product, today: date) -> None:
    """Five users on a half-year that started on the 1st of this month, so the upgrade
    preview ("Дней до конца текущего цикла") can be tried on any day."""
    if db.session.scalar(select(Service.id).where(Service.client_id == client.id)) is not None:
        return
    start = today.replace(day=1)
    option = product.options[0]
    price = billing.ProductPrice(
        billing.PriceList("RUB", {billing.Cycle.SEMI_ANNUAL: 0}),
        (
            billing.QuantityOption(
                option.name,
                option.unit,
                billing.PriceList("RUB", {billing.Cycle.SEMI_ANNUAL: D("4800.00")}),
                minimum=1,
            ).select(5),
        ),
    )
    service = Service(
        client_id=client.id,
        product_id=product.id,
        status=ServiceStatus.ACTIVE,
        cycle=billing.Cycle.SEMI_ANNUAL.value,
        currency="RUB",
        registration_date=start,
        period_start=start,
        next_due_date=billing.next_due(start, billing.Cycle.SEMI_ANNUAL),
        anchor_day=1,
        recurring_amount=price.price(billing.Cycle.SEMI_ANNUAL),
        created_at=app_clock().now(),
    )
    service.options.append(ServiceOption(option_id=option.id, quantity=5))
    db.session.add(service)


def add_demo_client(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    company: str = "",
    language: str = "ru",
) -> Client:
    """The client signed up with ``email`` and ``password`` (registered if missing, as through
    the sign-up page). Joins the transaction (the sign-up commits)."""
    client = db.session.scalar(select(Client).where(Client.email == email))
    if client is None:
        client = register_client(
            email=email,
            password=password,
            first_name=first_name,
            last_name=last_name,
            company=company,
            language=language,
            clock=app_clock(),
        )
    return client


def add_demo_service(
    client: Client,
    product: Product,
    *,
    cycle: str,
    start: date,
    quantities: Mapping[int, int] | None = None,
) -> Service:
    """``client``'s active service of ``product`` whose current period started on ``start``,
    as if imported from the previous billing system: no order, no invoice, no provisioning.
    The client's existing service of the product is returned as it is. Joins the transaction."""
    existing = db.session.scalar(
        select(Service).where(Service.client_id == client.id, Service.product_id == product.id)
    )
    if existing is not None:
        return existing
    chosen = billing.Cycle.parse(cycle)
    service = Service(
        client_id=client.id,
        product_id=product.id,
        status=ServiceStatus.ACTIVE,
        cycle=chosen.value,
        currency=client.currency,
        registration_date=start,
        period_start=start,
        next_due_date=billing.next_due(start, chosen),
        anchor_day=start.day,
        recurring_amount=D(0),
        created_at=app_clock().now(),
    )
    db.session.add(service)
    db.session.flush()
    values = dict(quantities or {})
    for option_id, quantity in values.items():
        service.options.append(ServiceOption(option_id=option_id, quantity=quantity))
    db.session.flush()
    service.recurring_amount = catalog.recurring_amount(service, values=values)
    db.session.flush()
    return service


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(db.func.count()).select_from(model)) or 0
        for model in (Product, ProductPrice, PromoCode, Addon, UpgradePath, Service)
    )


DEMO_DEPARTMENT = "Техническая поддержка"
#: The demo company's requisites: checked by the client profile's rules when loaded (INN check
#: digits by python-stdnum, KPP format, the account against the BIC's control key).
DEMO_COMPANY = {
    "legal_type": requisites.LegalType.LEGAL_ENTITY,
    "company": "ООО «Ромашка»",
    "inn": "7708123450",
    "kpp": "770801001",
    "bank_name": "ПАО Сбербанк",
    "bank_bic": "044525225",
    "bank_account": "40702810938000012345",
    "bank_corr_account": "30101810400000000225",
    "address": "ул. Лесная, д. 5, офис 12",
    "city": "Москва",
    "postcode": "125047",
    "country": "RU",
}
#: The second client, billed monthly since this many months before the current one.
DEMO_MONTHLY_CLIENT = ("buh@example.com", "demo-client-password")
HISTORY_MONTHS = 5
MONTHLY_USERS = 3


def _demo_company(client: Client) -> bool:
    """Make the demo client the company its name says, once (staff's edits are kept)."""
    if client.inn:
        return False
    requisites.clean_inn(DEMO_COMPANY["inn"], DEMO_COMPANY["legal_type"])
    requisites.clean_kpp(DEMO_COMPANY["kpp"])
    requisites.clean_account(DEMO_COMPANY["bank_account"], DEMO_COMPANY["bank_bic"])
    for name, value in DEMO_COMPANY.items():
        if name in ("legal_type", "inn", "kpp") or not getattr(client, name, ""):
            setattr(client, name, value)
    return True


def _month_start(day: date, months_back: int) -> date:
    month = day.year * 12 + day.month - 1 - months_back
    return date(month // 12, month % 12 + 1, 1)


def _paid_invoice(
    client: Client, service: Service, description: str, period: billing.Period, n: int
) -> None:
    """An invoice for ``period`` of ``service``, issued on its first day and paid by bank
    transfer four days later, its period recorded as billed as the billing run would."""
    line = billing.charge_line(description, service.recurring_amount, "RUB", period=period)
    draft = invoices.create_draft(client, [(line, service.id)])
    invoice = invoices.issue_invoice(draft, today=period.start, due_days=5)
    payments.record_payment(
        client,
        amount=invoice.total,
        method="bank",
        reference=f"ДЕМО-{client.id}-{n}",
        payment_date=min(period.start + timedelta(days=4), today()),
        invoices=[invoice],
    )
    db.session.add(
        BilledPeriod(
            service_id=service.id,
            period_start=period.start,
            period_end=period.end,
            invoice_id=invoice.id,
            created_at=app_clock().now(),
        )
    )
    db.session.commit()


def _demo_invoices(client: Client, products: Mapping[str, Product], day: date) -> bool:
    """The demo service's invoice and a second client's monthly history; once (the demo
    client's first invoice says it was done)."""
    if db.session.scalar(select(Invoice.id).where(Invoice.client_id == client.id)) is not None:
        return False
    users = db.session.scalar(select(Service).where(Service.client_id == client.id))
    if users is None or users.period_start is None or users.next_due_date is None:
        return False
    product = products[USERS_PRODUCT]
    other = add_demo_client(
        email=DEMO_MONTHLY_CLIENT[0],
        password=DEMO_MONTHLY_CLIENT[1],
        first_name="Мария",
        last_name="Соколова",
    )
    first = _month_start(day, HISTORY_MONTHS)
    current = _month_start(day, 0)
    option = product.options[0]
    service = add_demo_service(
        other, product, cycle="monthly", start=current, quantities={option.id: MONTHLY_USERS}
    )
    service.registration_date = first
    for n in range(HISTORY_MONTHS + 1):
        start = _month_start(day, HISTORY_MONTHS - n)
        month = billing.Period(start, _month_start(start, -1))
        _paid_invoice(other, service, product.name, month, n + 1)
    # last, so that the invoice numbers follow the dates
    period = billing.Period(users.period_start, users.next_due_date)
    _paid_invoice(client, users, product.name, period, 1)
    return True


def load_demo_data(clock: Clock) -> bool:
    """Create what is missing; returns True if anything was created (idempotent). The enabled
    plugins then add theirs (:func:`load_plugin_demo_data`)."""
    created = False
    ensure_builtin_roles()
    if db.session.scalar(select(Staff.id).where(Staff.email == DEMO_STAFF[0])) is None:
        staff = create_staff(
            email=DEMO_STAFF[0],
            password=DEMO_STAFF[1],
            first_name="Анна",
            last_name="Администратор",
            clock=clock,
        )
        give_builtin_role(staff, "administrator")
        created = True
    client = db.session.scalar(select(Client).where(Client.email == DEMO_CLIENT[0]))
    if client is None:
        client = register_client(
            email=DEMO_CLIENT[0],
            password=DEMO_CLIENT[1],
            first_name="Иван",
            last_name="Петров",
            company="ООО «Ромашка»",
            language="ru",
            clock=clock,
        )
        created = True
    if db.session.scalar(select(Department.id).where(Department.name == DEMO_DEPARTMENT)) is None:
        db.session.add(Department(name=DEMO_DEPARTMENT, email="support@example.com"))
        created = True
    before = _counts()
    products = load_demo_catalogue()
    _demo_service(client, products[USERS_PRODUCT], today())
    created = _demo_company(client) or created
    db.session.flush()
    created = created or _counts() != before
    db.session.commit()
    return _demo_invoices(client, products, today()) or created


def load_plugin_demo_data(day: date) -> list[str]:
    """The enabled plugins' demo data (the ``load_demo_data`` hook), after the core's; each
    plugin creates only what is missing and commits. Returns the lines they want printed."""
    lines = app_plugins().collect("load_demo_data", today=day)
    db.session.commit()
    return [str(line) for line in lines]
