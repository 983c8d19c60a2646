"""The catalogue in the admin area: groups, products with prices per cycle, options (quantity and
dropdown), add-ons, upgrade paths, promo codes; every input validated with a clear message."""

from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from portal.accounts.models import AuditEntry
from portal.catalog import catalog
from portal.catalog.models import Addon, ConfigOption, Product, ProductGroup, UpgradePath
from portal.core.extensions import db
from portal.orders.models import PromoCode
from portal.platform import demo
from portal.testing.factories import make_staff

D = Decimal


@pytest.fixture
def group(app: Flask) -> ProductGroup:
    group = ProductGroup(name="1С в облаке")
    db.session.add(group)
    db.session.commit()
    return group


def new_product(staff_web, group: ProductGroup, name: str = "Доступ «Стандарт»") -> Product:
    response = staff_web.submit(
        "/admin/catalog/products/new",
        {
            "name": name,
            "group_id": group.id,
            "type": "service",
            "visibility": "client_area",
            "day_count": "",
            "description": "Работа в 1С",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return db.session.scalar(select(Product).where(Product.name == name))


def prices(
    cycle_prices: dict[str, str], setup: dict[str, str] | None = None, currency: str = "RUB"
) -> dict[str, str]:
    data = {"currency": currency}
    for cycle, price in cycle_prices.items():
        data[f"price-{cycle}"] = price
    for cycle, fee in (setup or {}).items():
        data[f"setup-{cycle}"] = fee
    return data


def test_groups_and_duplicate_names(staff_web, group) -> None:
    page = staff_web.get("/admin/catalog/").get_data(as_text=True)
    assert "1С в облаке" in page
    again = staff_web.submit("/admin/catalog/", {"name": " 1С  в облаке "})
    assert again.status_code == 200
    assert "A product group named 1С в облаке already exists." in again.get_data(as_text=True)
    assert staff_web.submit("/admin/catalog/", {"name": "Хостинг"}).status_code == 302
    hosting = db.session.scalar(select(ProductGroup.id).where(ProductGroup.name == "Хостинг"))
    assert (
        staff_web.submit(
            f"/admin/catalog/groups/{hosting}/delete",
            {},
            form_page=f"/admin/catalog/groups/{hosting}",
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(ProductGroup, hosting) is None


def test_product_with_prices_and_billing_errors(staff_web, group) -> None:
    product = new_product(staff_web, group)
    edit = f"/admin/catalog/products/{product.id}"
    duplicate = staff_web.submit(
        "/admin/catalog/products/new",
        {
            "name": product.name,
            "group_id": group.id,
            "type": "service",
            "visibility": "client_area",
            "day_count": "",
        },
    )
    assert "A product named Доступ «Стандарт» already exists." in duplicate.get_data(as_text=True)
    too_precise = staff_web.submit(
        f"{edit}/prices", prices({"monthly": "800.00001"}), form_page=edit
    )
    assert too_precise.status_code == 200
    assert "Price 800.00001 has more than 4 decimal places." in too_precise.get_data(as_text=True)
    negative = staff_web.submit(f"{edit}/prices", prices({"monthly": "-1"}), form_page=edit)
    assert "Price -1.00 must not be negative." in negative.get_data(as_text=True)
    junk = staff_web.submit(f"{edit}/prices", prices({"monthly": "много"}), form_page=edit)
    assert "Price must be a decimal number, got много." in junk.get_data(as_text=True)
    free = staff_web.submit(f"{edit}/prices", prices({"free": "10"}), form_page=edit)
    assert "A free service cannot cost 10." in free.get_data(as_text=True)
    fee_only = staff_web.submit(f"{edit}/prices", prices({}, {"annual": "100"}), form_page=edit)
    assert "Enter the price too" in fee_only.get_data(as_text=True)
    saved = staff_web.submit(
        f"{edit}/prices",
        prices({"monthly": "800,00", "semi_annual": "4 800.00"}, {"monthly": "1000"}),
        form_page=edit,
    )
    assert saved.status_code == 302
    db.session.expire_all()
    stored = {p.cycle: (p.price, p.setup_fee) for p in db.session.get(Product, product.id).prices}
    assert stored == {"monthly": (D("800"), D("1000")), "semi_annual": (D("4800"), D("0"))}
    usd = staff_web.submit(
        f"{edit}/prices",
        prices({"annual": "99.99"}, currency="USD"),
        form_page=f"{edit}?currency=USD",
    )
    assert usd.status_code == 302
    assert "USD" in staff_web.get(edit).get_data(as_text=True)
    assert db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "catalog.prices.update")
    )
    details = staff_web.submit(
        edit,
        {
            "name": product.name,
            "group_id": group.id,
            "type": "licence",
            "visibility": "staff_only",
            "day_count": "30/360",
            "stock": "-1",
        },
    )
    assert "Stock cannot be negative." in details.get_data(as_text=True)
    details = staff_web.submit(
        edit,
        {
            "name": product.name,
            "group_id": group.id,
            "type": "licence",
            "visibility": "staff_only",
            "day_count": "30/360",
            "stock": "10",
            "tax_inclusive": "y",
            "module": "onec",
            "welcome_email": "welcome_1c",
        },
    )
    assert details.status_code == 302
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert (product.day_count, product.stock, product.tax_inclusive, product.module) == (
        "30/360",
        10,
        True,
        "onec",
    )


def test_quantity_and_dropdown_options(staff_web, group) -> None:
    product = new_product(staff_web, group)
    staff_web.submit(
        f"/admin/catalog/products/{product.id}/prices",
        prices({"semi_annual": "0"}),
        form_page=f"/admin/catalog/products/{product.id}",
    )
    bad = staff_web.submit(
        f"/admin/catalog/products/{product.id}/options/new",
        {
            "name": "Количество пользователей",
            "kind": "quantity",
            "minimum": "5",
            "maximum": "2",
            "step": "1",
        },
    )
    assert "The maximum cannot be below the minimum." in bad.get_data(as_text=True)
    created = staff_web.submit(
        f"/admin/catalog/products/{product.id}/options/new",
        {
            "name": "Количество пользователей",
            "kind": "quantity",
            "unit": "Пользователь",
            "minimum": "1",
            "maximum": "100",
            "step": "1",
        },
    )
    assert created.status_code == 302
    option = db.session.scalar(select(ConfigOption).where(ConfigOption.product_id == product.id))
    url = f"/admin/catalog/options/{option.id}"
    assert (
        staff_web.submit(
            f"{url}/prices", prices({"semi_annual": "4800.00"}), form_page=url
        ).status_code
        == 302
    )
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    configured = catalog.configure(product, "RUB", {option.id: 5})
    assert configured.price(catalog.Cycle.SEMI_ANNUAL) == D("24000.00")
    assert configured.details() == ("Количество пользователей: 5 x Пользователь",)
    dup = staff_web.submit(
        f"/admin/catalog/products/{product.id}/options/new",
        {"name": "Количество пользователей", "kind": "dropdown"},
    )
    assert "already has an option named" in dup.get_data(as_text=True)
    staff_web.submit(
        f"/admin/catalog/products/{product.id}/options/new", {"name": "ОС", "kind": "dropdown"}
    )
    dropdown = db.session.scalar(select(ConfigOption).where(ConfigOption.name == "ОС"))
    durl = f"/admin/catalog/options/{dropdown.id}"
    for name in ("Linux", "Windows"):
        assert (
            staff_web.submit(f"{durl}/choices", {"name": name}, form_page=durl).status_code == 302
        )
    db.session.expire_all()
    windows = next(
        c for c in db.session.get(ConfigOption, dropdown.id).choices if c.name == "Windows"
    )
    linux = next(c for c in db.session.get(ConfigOption, dropdown.id).choices if c.name == "Linux")
    staff_web.submit(
        f"{durl}/prices",
        {**prices({"semi_annual": "900"}), "choice_id": windows.id},
        form_page=durl,
    )
    staff_web.submit(
        f"{durl}/prices", {**prices({"semi_annual": "0"}), "choice_id": linux.id}, form_page=durl
    )
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    configured = catalog.configure(product, "RUB", {option.id: 2, dropdown.id: windows.id})
    assert configured.price(catalog.Cycle.SEMI_ANNUAL) == D("10500.00")
    page = staff_web.get(durl).get_data(as_text=True)
    assert "Windows" in page and "900" in page


def test_addons_upgrade_paths_and_promo_codes(staff_web, app: Flask) -> None:
    shop = demo.load_demo_catalogue()
    db.session.commit()
    office, department = shop[demo.PBX_OFFICE], shop[demo.PBX_DEPARTMENT]
    users = shop[demo.USERS_PRODUCT]
    assert staff_web.get("/admin/catalog/addons").status_code == 200
    created = staff_web.submit(
        "/admin/catalog/addons/new",
        {"name": "Запись разговоров", "product_ids": [office.id], "activate_with_parent": "y"},
    )
    assert created.status_code == 302
    addon = db.session.scalar(select(Addon).where(Addon.name == "Запись разговоров"))
    url = f"/admin/catalog/addons/{addon.id}"
    assert (
        staff_web.submit(f"{url}/prices", prices({"monthly": "350"}), form_page=url).status_code
        == 302
    )
    assert [a.name for a in catalog.addons_for(office)] == ["Запись разговоров"]
    paths = staff_web.submit(
        f"/admin/catalog/products/{users.id}/upgrades",
        {"target_ids": [office.id, department.id]},
        form_page=f"/admin/catalog/products/{users.id}",
    )
    assert paths.status_code == 302
    assert {
        p.to_product_id
        for p in db.session.scalars(
            select(UpgradePath).where(UpgradePath.from_product_id == users.id)
        )
    } == {office.id, department.id}
    over = staff_web.submit(
        "/admin/catalog/promos/new", {"code": "big", "kind": "percent", "value": "150"}
    )
    assert "a percentage must be above 0 and at most 100, got 150" in over.get_data(as_text=True)
    dup = staff_web.submit(
        "/admin/catalog/promos/new", {"code": "ref5", "kind": "percent", "value": "5"}
    )
    assert "A promo code REF5 already exists." in dup.get_data(as_text=True)
    dates = staff_web.submit(
        "/admin/catalog/promos/new",
        {
            "code": "SPRING",
            "kind": "fixed",
            "value": "500.00",
            "valid_from": "2026-05-01",
            "valid_to": "2026-04-01",
        },
    )
    assert "The last day cannot be before the first day." in dates.get_data(as_text=True)
    ok = staff_web.submit(
        "/admin/catalog/promos/new",
        {
            "code": "spring",
            "kind": "fixed",
            "value": "500.00",
            "currency": "RUB",
            "cycles": ["annual"],
            "product_ids": [users.id],
            "valid_to": "2026-05-31",
            "max_uses": "100",
            "once_per_client": "y",
            "active": "y",
        },
    )
    assert ok.status_code == 302
    promo = db.session.scalar(select(PromoCode).where(PromoCode.code == "SPRING"))
    assert promo.cycles == ["annual"] and promo.product_ids == [users.id]
    assert "SPRING" in staff_web.get("/admin/catalog/promos").get_data(as_text=True)


def test_catalogue_needs_the_settings_permission(app: Flask, group, clock) -> None:
    support = make_staff(clock, role="sales_manager")
    web = app.test_client()
    web.sign_in_staff(support.email)
    for url in (
        "/admin/catalog/",
        "/admin/catalog/promos",
        "/admin/catalog/addons",
        "/admin/catalog/products/new",
    ):
        assert web.get(url).status_code == 403, url
