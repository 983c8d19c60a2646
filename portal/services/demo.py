"""Demo data for a first look: a staff administrator, a client and a few products."""

from __future__ import annotations

from sqlalchemy import select

from portal.clock import Clock
from portal.extensions import db
from portal.models import Client, Product, ProductGroup, ProductType, Staff
from portal.services.accounts import create_staff, register_client
from portal.services.staff import ensure_builtin_roles, give_builtin_role

DEMO_STAFF = ("admin@example.com", "demo-admin-password")
DEMO_CLIENT = ("client@example.com", "demo-client-password")
DEMO_LOGINS = (
    ("admin area", *DEMO_STAFF),
    ("client area", *DEMO_CLIENT),
)

DEMO_CATALOGUE = {
    "1С в облаке": [
        ("Доступ на пользователя «Стандарт»", ProductType.SERVICE, None),
        ("Пакет лицензий 1С в аренду", ProductType.LICENCE, "onec"),
    ],
    "Хостинг": [("Пакет дискового пространства 5ГБ", ProductType.SERVICE, "diskspace")],
    "Телефония": [("Виртуальная АТС «Офис»", ProductType.USAGE, "telephony")],
}


def load_demo_data(clock: Clock) -> bool:
    """Create what is missing; returns True if anything was created (idempotent)."""
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
    if db.session.scalar(select(Client.id).where(Client.email == DEMO_CLIENT[0])) is None:
        register_client(
            email=DEMO_CLIENT[0],
            password=DEMO_CLIENT[1],
            first_name="Иван",
            last_name="Петров",
            company="ООО «Ромашка»",
            language="ru",
            clock=clock,
        )
        created = True
    for group_name, products in DEMO_CATALOGUE.items():
        group = db.session.scalar(select(ProductGroup).where(ProductGroup.name == group_name))
        if group is None:
            group = ProductGroup(name=group_name)
            db.session.add(group)
            created = True
        for name, product_type, module in products:
            if db.session.scalar(select(Product.id).where(Product.name == name)) is None:
                db.session.add(Product(name=name, type=product_type, module=module, group=group))
                created = True
    db.session.commit()
    return created
