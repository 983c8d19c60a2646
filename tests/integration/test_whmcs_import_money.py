"""``portal import whmcs``, the money half: catalogue, services, orders, invoices, payments,
credit and promo codes from a WHMCS 8.x database (real MariaDB, tests/fixtures/whmcs) into the
portal's (SQLite, or PostgreSQL with the postgres backend). The sums per currency must match the
source, the money check must pass, a second import must change nothing and a dry run must
create nothing; nothing may be mailed or fire a payment hook.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.catalog.models import (
    Addon,
    ConfigOption,
    OptionKind,
    Product,
    ProductGroup,
    ProductPrice,
    Visibility,
)
from portal.core.extensions import db
from portal.imports.report import ImportReport
from portal.imports.whmcs.runner import import_whmcs
from portal.invoicing.invoices import take_numbering
from portal.invoicing.models import (
    CreditEntry,
    CreditReason,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentKind,
)
from portal.invoicing.money_check import check_money
from portal.invoicing.payments import credit_balance
from portal.messaging.models.outbox import OutboundMessage
from portal.orders.models import (
    Order,
    OrderStatus,
    PromoCode,
    PromoCodeKind,
    Service,
    ServiceAddon,
    ServiceStatus,
)
from portal.platform.hooks.markers import hookimpl
from portal.testing.mariadb import fresh_mariadb, load_sql

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "whmcs"
MONEY_TABLES = (
    "tblproductgroups",
    "tblproducts",
    "tblproductconfigoptions",
    "tbladdons",
    "tblpromotions",
    "tblhosting",
    "tblinvoices",
    "tblorders",
    "tblaccounts",
    "tblcredit",
)


@pytest.fixture(scope="module")
def whmcs(mariadb_server: str) -> Iterator[str]:
    """A WHMCS database of its own holding clients.sql and billing.sql (read only here)."""
    with fresh_mariadb("whmcs_money") as url:
        load_sql(url, FIXTURES / "schema.sql", FIXTURES / "clients.sql", FIXTURES / "billing.sql")
        yield url


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def imported(model: type, whmcs_table: str, whmcs_id: int):  # type: ignore[no-untyped-def]
    from portal.imports.models import ImportMapping

    target = db.session.scalar(
        select(ImportMapping.target_id).where(
            ImportMapping.source_table == whmcs_table, ImportMapping.source_id == str(whmcs_id)
        )
    )
    assert target is not None, f"{whmcs_table} #{whmcs_id} was not imported"
    return db.session.get(model, target)


def refusal(report: ImportReport, table: str, whmcs_id: int) -> str:
    found = [str(r) for r in report.refusals if r.table == table and r.source_id == str(whmcs_id)]
    assert found, f"no refusal of {table} #{whmcs_id}"
    return " ".join(found)


def test_catalogue_with_cycles_prices_options_and_addons(app: Flask, whmcs: str) -> None:
    report = import_whmcs(whmcs)

    assert count(ProductGroup) == 3
    buh = imported(Product, "tblproducts", 1)
    prices = {(p.currency, p.cycle): (p.price, p.setup_fee) for p in buh.prices}
    assert prices == {
        ("RUB", "monthly"): (Decimal("1500.00"), Decimal("500.00")),
        ("RUB", "quarterly"): (Decimal("4275.00"), Decimal(0)),
        ("RUB", "semi_annual"): (Decimal("8100.00"), Decimal(0)),
        ("RUB", "annual"): (Decimal("15300.00"), Decimal(0)),
        ("USD", "monthly"): (Decimal("20.00"), Decimal("7.00")),
        ("USD", "quarterly"): (Decimal("57.00"), Decimal(0)),
        ("USD", "annual"): (Decimal("204.00"), Decimal(0)),
    }  # -1.00 cycles are not offered
    assert "biennially, triennially" in refusal(report, "tblpricing", 1)
    unf = imported(Product, "tblproducts", 2)
    assert {p.cycle for p in unf.prices} == {"monthly", "annual", "biennial", "triennial"}
    assert "quarterly" in refusal(report, "tblpricing", 3)  # 0.00 disables a cycle too
    setup = imported(Product, "tblproducts", 4)
    assert [(p.cycle, p.price) for p in setup.prices] == [("one_time", Decimal("5000.00"))]
    trial = imported(Product, "tblproducts", 5)
    assert {(p.currency, p.cycle, p.price) for p in trial.prices} == {
        ("RUB", "free", Decimal(0)),
        ("USD", "free", Decimal(0)),
    }
    assert trial.visibility is Visibility.HIDDEN
    assert imported(Product, "tblproducts", 6).visibility is Visibility.STAFF_ONLY
    assert "proxmox" in refusal(report, "tblproducts", 3)

    # the option group is linked to both 1C products: each gets its own options
    assert count(ConfigOption) == 6
    users = imported(ConfigOption, "tblproductconfigoptions", "1:1")
    assert (users.name, users.kind, users.unit) == (
        "Количество пользователей",
        OptionKind.QUANTITY,
        "Пользователь",
    )
    assert (users.minimum, users.maximum) == (1, 100)
    per_user = {(p.currency, p.cycle): p.price for p in users.prices}
    assert per_user[("RUB", "monthly")] == Decimal("450.00")
    assert ("RUB", "biennial") not in per_user  # the product is not sold biennially
    backup = imported(ConfigOption, "tblproductconfigoptions", "2:2")
    assert backup.product_id == unf.id and backup.kind is OptionKind.DROPDOWN
    assert [c.name for c in backup.choices] == ["Еженедельно", "Ежедневно"]
    ip = imported(ConfigOption, "tblproductconfigoptions", "3:1")
    assert (ip.kind, ip.minimum, ip.maximum) == (OptionKind.QUANTITY, 0, 1)

    pro = imported(Addon, "tbladdons", 1)
    assert {p.id for p in pro.products} == {buh.id, unf.id}
    assert {(p.currency, p.cycle, p.price) for p in pro.prices} == {
        ("RUB", "monthly", Decimal("250.00")),
        ("RUB", "quarterly", Decimal("700.00")),
        ("RUB", "annual", Decimal("2700.00")),
        ("USD", "monthly", Decimal("3.50")),
    }


def test_promotions_become_promo_codes(app: Flask, whmcs: str) -> None:
    report = import_whmcs(whmcs)

    welcome = db.session.scalars(select(PromoCode).where(PromoCode.code == "WELCOME10")).one()
    assert (welcome.kind, welcome.value) == (PromoCodeKind.PERCENT, Decimal("10.00"))
    assert welcome.cycles == ["monthly", "annual"]
    assert set(welcome.product_ids) == {
        imported(Product, "tblproducts", 1).id,
        imported(Product, "tblproducts", 2).id,
    }
    assert (welcome.max_uses, welcome.once_per_client) == (98, True)  # 100 less 2 used
    assert welcome.valid_to == date(2027, 12, 31)
    fixed = db.session.scalars(select(PromoCode).where(PromoCode.code == "MINUS500")).one()
    assert (fixed.kind, fixed.currency, fixed.recurring) == (PromoCodeKind.FIXED, "RUB", True)
    assert "Free Setup" in refusal(report, "tblpromotions", 3)
    assert "Price Override" in refusal(report, "tblpromotions", 4)


def test_services_keep_due_dates_prices_options_and_addons(app: Flask, whmcs: str) -> None:
    report = import_whmcs(whmcs)

    buh = imported(Service, "tblhosting", 1)
    assert (buh.status, buh.cycle, buh.currency) == (ServiceStatus.ACTIVE, "monthly", "RUB")
    assert (buh.next_due_date, buh.period_start) == (date(2026, 12, 15), date(2026, 11, 15))
    assert buh.price_override == Decimal("3000.00")
    options = {o.option.name: (o.quantity, o.choice_id) for o in buh.options}
    assert options["Количество пользователей"] == (3, None)
    daily = imported(ConfigOption, "tblproductconfigoptions", "2:1").choices[1]
    assert options["Резервное копирование"] == (0, daily.id)
    assert options["Выделенный IP"] == (1, None)
    addons = db.session.scalars(select(ServiceAddon).where(ServiceAddon.service_id == buh.id))
    assert [(a.recurring_amount, a.status) for a in addons] == [
        (Decimal("250.00"), ServiceStatus.ACTIVE)
    ]

    one_time = imported(Service, "tblhosting", 4)
    assert (one_time.cycle, one_time.next_due_date) == ("one_time", None)  # 0000-00-00
    assert imported(Service, "tblhosting", 3).status is ServiceStatus.SUSPENDED
    assert imported(Service, "tblhosting", 5).currency == "USD"
    assert imported(Service, "tblhosting", 8).cycle == "free"
    assert "one service per product per client" in refusal(report, "tblhosting", 7)


def test_invoices_keep_numbers_taxes_and_continue_the_numbering(app: Flask, whmcs: str) -> None:
    import_whmcs(whmcs)

    first = imported(Invoice, "tblinvoices", 1)
    assert first.number == "1"  # empty invoicenum: the id
    assert (first.subtotal, first.tax, first.total) == (
        Decimal("2000.00"),
        Decimal("400.00"),
        Decimal("2400.00"),
    )
    assert [(line.amount, line.tax, line.tax_percent) for line in first.lines] == [
        (Decimal("1500.00"), Decimal("300.00"), Decimal("20.00")),
        (Decimal("500.00"), Decimal("100.00"), Decimal("20.00")),
    ]
    assert first.lines[0].service_id == imported(Service, "tblhosting", 1).id
    assert imported(Invoice, "tblinvoices", 2).number == "INV-000102"
    draft = imported(Invoice, "tblinvoices", 7)
    assert (draft.status, draft.number) == (InvoiceStatus.DRAFT, None)

    two_taxes = imported(Invoice, "tblinvoices", 8)  # 8 % and 5 % compound
    assert (two_taxes.tax, two_taxes.total, two_taxes.currency) == (
        Decimal("8.98"),
        Decimal("75.97"),
        "USD",
    )
    assert sum((line.tax for line in two_taxes.lines), Decimal(0)) == Decimal("8.98")
    promo = imported(Invoice, "tblinvoices", 10)
    assert [line.kind for line in promo.lines] == ["charge", "promo"]
    assert promo.total == Decimal("1620.00")  # before the credit that paid it

    statuses = {
        whmcs_id: imported(Invoice, "tblinvoices", whmcs_id).status
        for whmcs_id in (1, 3, 4, 5, 6, 9, 10, 11, 12)
    }
    assert statuses == {
        1: InvoiceStatus.PAID,
        3: InvoiceStatus.PAID,  # 500.00 credit and a 1 300.00 payment
        4: InvoiceStatus.REFUNDED,
        5: InvoiceStatus.UNPAID,
        6: InvoiceStatus.CANCELLED,
        9: InvoiceStatus.PARTIALLY_PAID,  # "Unpaid" in WHMCS with 30.00 received
        10: InvoiceStatus.PAID,  # by credit alone
        11: InvoiceStatus.PARTIALLY_PAID,  # "Paid" in WHMCS, 500.00 refunded since
        12: InvoiceStatus.COLLECTIONS,
    }
    assert imported(Invoice, "tblinvoices", 11).amount_paid == Decimal("1900.00")

    # the highest imported number is INV-000111: the portal's next invoice is 112
    (numbering,) = take_numbering(date(2026, 12, 20))
    assert numbering.sequence == 112


def test_payments_fees_refunds_and_credit(app: Flask, whmcs: str) -> None:
    report = import_whmcs(whmcs)

    yookassa = imported(Payment, "tblaccounts", 2)
    assert (yookassa.method, yookassa.reference, yookassa.amount, yookassa.fee) == (
        "yookassa",
        "2f1a9c3e-000f-5000-8000-1b2c3d4e5f60",
        Decimal("1800.00"),
        Decimal("63.00"),
    )
    refunded = imported(Payment, "tblaccounts", 4)
    refund = imported(Payment, "tblaccounts", 5)
    assert (refund.kind, refund.amount, refund.refund_of_id, refund.fee) == (
        PaymentKind.REFUND,
        Decimal("-1800.00"),
        refunded.id,
        Decimal("-63.00"),
    )
    assert refunded.refunded == Decimal("1800.00")
    assert [a.amount for a in refunded.allocations] == [Decimal(0)]
    unallocated = imported(Payment, "tblaccounts", 11)
    assert (unallocated.amount, unallocated.allocations) == (Decimal("1000.00"), [])
    assert "not a client's transaction" in refusal(report, "tblaccounts", 10)

    romashka = imported(Payment, "tblaccounts", 1).client_id
    assert credit_balance(romashka, "RUB") == Decimal("300.00")
    applied = db.session.scalars(
        select(CreditEntry.amount).where(
            CreditEntry.client_id == romashka, CreditEntry.reason == CreditReason.APPLIED
        )
    ).all()
    assert sorted(applied) == [Decimal("-1620.00"), Decimal("-500.00")]
    sidorov = imported(Invoice, "tblinvoices", 5).client_id
    assert credit_balance(sidorov, "RUB") == Decimal("25.00")  # as WHMCS showed it
    assert "a correction of 25.00" in refusal(report, "tblclients", 2)
    acme = imported(Invoice, "tblinvoices", 8).client_id
    assert credit_balance(acme, "USD") == Decimal("15.00")

    order = imported(Order, "tblorders", 1)
    assert (order.status, order.total, order.invoice_id) == (
        OrderStatus.ACTIVE,
        Decimal("2400.00"),
        imported(Invoice, "tblinvoices", 1).id,
    )
    assert order.promo_code.code == "WELCOME10"
    assert {item.service_id for item in order.items} == {
        imported(Service, "tblhosting", 1).id,
        imported(Service, "tblhosting", 2).id,
    }
    assert imported(Order, "tblorders", 5).status is OrderStatus.FRAUD


def test_sums_match_the_source_and_the_money_check_passes(
    app: Flask, whmcs: str, register_plugin
) -> None:
    paid_hooks: list[int] = []

    class Watcher:
        @hookimpl
        def invoice_paid(self, invoice: Invoice) -> None:
            paid_hooks.append(invoice.id)

    register_plugin(Watcher())
    report = import_whmcs(whmcs)

    money_lines = {
        what: (source, portal)
        for what, source, portal in report.sum_lines()
        if what.split()[0] in {"invoices", "payments", "refunds", "payment", "credit"}
    }
    assert money_lines["invoices total RUB"] == ("37916.60", "37916.60")
    assert money_lines["payments total USD"] == ("105.97", "105.97")
    assert money_lines["credit total RUB"] == ("325.00", "325.00")
    assert money_lines["payment fees RUB"] == ("63.00", "63.00")
    assert money_lines["invoices"] == ("12", "12")
    mismatched = {what: sums for what, sums in money_lines.items() if sums[0] != sums[1]}
    assert mismatched == {}

    check = check_money()
    assert check.clean, check.lines()
    assert check.invoices == 11  # every invoice but the draft
    assert paid_hooks == []  # history: nothing provisioned, nothing unsuspended
    assert count(OutboundMessage) == 0  # and nobody mailed


def test_a_second_import_changes_nothing(app: Flask, whmcs: str) -> None:
    import_whmcs(whmcs)
    rows = {model: count(model) for model in (Product, ProductPrice, Service, Invoice, Payment)}
    balance = db.session.scalar(select(func.sum(CreditEntry.amount)))

    again = import_whmcs(whmcs)

    for table in MONEY_TABLES:
        counts = again.tables[table]
        assert (counts.created, counts.changed) == (0, 0), table
    assert {model: count(model) for model in rows} == rows
    assert db.session.scalar(select(func.sum(CreditEntry.amount))) == balance
    assert check_money().clean


def test_a_changed_invoice_is_updated_not_duplicated(app: Flask, whmcs: str) -> None:
    from sqlalchemy import create_engine, text

    import_whmcs(whmcs)
    engine = create_engine(whmcs)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE tblinvoices SET notes = 'Сверено' WHERE id = 5"))
        again = import_whmcs(whmcs)
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE tblinvoices SET notes = '' WHERE id = 5"))
        engine.dispose()
    assert again.tables["tblinvoices"].changed == 1
    assert imported(Invoice, "tblinvoices", 5).notes == "Сверено"
    assert count(Invoice) == 12
    assert check_money().clean


def test_a_dry_run_creates_nothing(app: Flask, whmcs: str) -> None:
    report = import_whmcs(whmcs, dry_run=True)

    assert report.tables["tblinvoices"].created == 12
    assert report.tables["tblaccounts"].created == 11
    for model in (ProductGroup, Product, Service, Invoice, Payment, CreditEntry, PromoCode, Order):
        assert count(model) == 0, model


def test_clients_sign_in_with_their_whmcs_bcrypt_and_salted_md5_passwords(
    app: Flask, whmcs: str
) -> None:
    from portal.accounts.models import Client, ClientStatus

    import_whmcs(whmcs)
    owner = db.session.scalars(select(Client).where(Client.email == "romashka@example.ru")).one()
    petr = db.session.scalars(select(Client).where(Client.email == "petr@example.ru")).one()
    assert owner.password_hash.startswith("whmcs$$2y$")
    assert petr.password_hash == "whmcs$c68bbf5be56bc6367080a63fab06e409:xY7!q"
    petr.status = ClientStatus.ACTIVE  # inactive in WHMCS; staff let him in again
    db.session.commit()

    app.test_client().sign_in_client("romashka@example.ru", "bcrypt-secret")
    app.test_client().sign_in_client("petr@example.ru", "md5-secret")

    db.session.expire_all()
    for client in (owner, petr):
        assert db.session.get(Client, client.id).password_hash.startswith("$argon2id$")
