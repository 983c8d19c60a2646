"""The platform's registry and decision hooks, each wired end to end through the exerciser:
usage collectors in the billing run, statement parsers in the statement import (and the built-in
1C format), reports with filters, chart and CSV, plugin settings (secrets encrypted at rest),
product fields, and validate_order refusing an order."""

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import billing
from portal.accounts.models import AuditEntry
from portal.catalog.models import Product
from portal.core.extensions import db
from portal.invoicing import bank_statements, invoices, payments
from portal.invoicing.billing_run import bill_due
from portal.invoicing.models import Invoice, InvoiceStatus, Payment
from portal.orders import orders
from portal.orders.models import Order, Service
from portal.orders.orders import CartItem, OrderError
from portal.platform import demo, plugin_settings
from portal.platform.models import PluginSetting
from portal.testing.bank import onec_statement
from portal.testing.factories import make_client
from tests.plugins import exerciser

D = Decimal
TODAY = date(2026, 11, 2)


@pytest.fixture
def exercised(make_app):
    app: Flask = make_app(extra_plugins=(exerciser,))
    with app.app_context():
        yield app


@pytest.fixture
def shop(exercised: Flask) -> dict[str, Product]:
    products = demo.load_demo_catalogue()
    db.session.commit()
    return products


def _issued(client, amount: str) -> Invoice:
    client.tax_exempt = True  # the invoice's total is the amount
    line = billing.charge_line("Услуга", D(amount), "RUB")
    draft = invoices.create_draft(client, [(line, None)])
    db.session.commit()
    return invoices.issue_invoice(draft, today=TODAY)


# --- register_usage_collectors ------------------------------------------------------------------


def test_register_usage_collectors_the_products_module_collector_is_billed(shop, clock) -> None:
    product = shop[demo.PBX_OFFICE]  # usage-billed
    product.module = "exerciser-meter"
    db.session.commit()
    client = make_client(clock)
    client.tax_exempt = True
    order = orders.place_order(client, [CartItem(product.id, "monthly")], today=date(2026, 3, 10))
    orders.accept_order(order, today=date(2026, 3, 10), send_email=False)
    service = db.session.get(Service, order.items[0].service_id)
    exerciser.METER.asked.clear()

    bill_due(date(2026, 4, 10))

    invoice = db.session.scalars(
        select(Invoice).where(Invoice.issue_date == date(2026, 4, 10))
    ).one()
    lines = [(line.description, line.total) for line in invoice.lines]
    assert ("Traffic above the plan (10.03.2026 - 09.04.2026)", D("30.00")) in lines
    assert exerciser.METER.asked == [
        (service.id, billing.Period(date(2026, 3, 10), date(2026, 4, 10)))
    ]
    bill_due(date(2026, 4, 10))  # the same period is never asked for twice
    assert len(exerciser.METER.asked) == 1


# --- register_statement_parsers -----------------------------------------------------------------


def test_the_built_in_1c_parser_records_payments_once(exercised, client_account) -> None:
    client_account.inn = "7701234567"
    invoice = _issued(client_account, "860.00")
    data = onec_statement(
        {
            "Номер": "72815",
            "Дата": "02.11.2026",
            "Сумма": "860.00",
            "ПлательщикИНН": "7701234567",
            "Плательщик": "ООО «Ромашка»",
            "ПлательщикСчет": "40702810100000000099",
            "ПолучательСчет": "40702810900000000001",
            "НазначениеПлатежа": f"Оплата по счету {invoice.number} от 02.11.2026. НДС нет",
            "ДатаПоступило": "02.11.2026",
        },
        {
            "Номер": "15",
            "Дата": "02.11.2026",
            "Сумма": "100.00",
            "ПлательщикСчет": "40702810900000000001",  # our own outgoing payment
            "НазначениеПлатежа": "Аренда",
        },
        {
            "Номер": "16",
            "Дата": "02.11.2026",
            "Сумма": "50.00",
            "ПлательщикИНН": "7709999999",
            "НазначениеПлатежа": "Без счёта",
        },
    )
    statement = bank_statements.parse(data)
    assert statement.parser == "1c" and len(statement.entries) == 2

    report = bank_statements.import_statement(data)

    assert [p.reference for p in report.recorded] == ["п/п 72815 от 02.11.2026 ИНН 7701234567"]
    assert [entry.number for entry, _reason in report.unmatched] == ["16"]
    assert db.session.get(Invoice, invoice.id).status is InvoiceStatus.PAID
    again = bank_statements.import_statement(data)
    assert again.recorded == [] and [e.number for e in again.already] == ["72815"]
    assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_register_statement_parsers_a_plugin_format_is_read_first(exercised, client_account):
    invoice = _issued(client_account, "500.00")
    data = f"EXERCISER-BANK\n7;02.11.2026;500.00;;Счёт {invoice.number}".encode()

    report = bank_statements.import_statement(data)

    assert report.statement.parser == "exerciser-bank"
    assert [p.amount for p in report.recorded] == [D("500.00")]
    with pytest.raises(bank_statements.StatementError, match="Exerciser bank CSV"):
        bank_statements.parse(b"%PDF-1.4 not a statement")


# --- register_reports ---------------------------------------------------------------------------


def test_register_reports_menu_page_filters_chart_and_csv(
    exercised, client_account, staff_member
) -> None:
    paid = _issued(client_account, "860.00")
    _issued(client_account, "100.00")
    payments.record_payment(
        client_account,
        amount=D("860.00"),
        method="bank",
        reference="п/п 1",
        payment_date=TODAY,
        invoices=[paid],
    )
    web = exercised.test_client()
    web.sign_in_staff(staff_member.email)

    menu = web.get("/admin/section/reports").get_data(as_text=True)
    assert 'href="/admin/reports/exerciser_invoices"' in menu and "Invoices by month" in menu
    page = web.get("/admin/reports/exerciser_invoices").get_data(as_text=True)
    assert "<svg" in page and 'role="img"' in page and "<td>2026-11</td>" in page
    assert "<td>960.00</td>" in page
    filtered = web.get("/admin/reports/exerciser_invoices?status=paid").get_data(as_text=True)
    assert "<td>860.00</td>" in filtered and "960.00" not in filtered
    csv = web.get("/admin/reports/exerciser_invoices?status=paid&format=csv")
    assert csv.mimetype == "text/csv"
    assert csv.get_data().decode("utf-8-sig").splitlines() == [  # for programs: dot decimals
        "Month,Invoices,Total",
        "2026-11,1,860.00",
    ]
    assert web.get("/admin/reports/nothing-here").status_code == 404


def test_a_report_needs_the_reports_permission(exercised, clock) -> None:
    from portal.testing.factories import make_staff

    support = make_staff(clock, role="support", email="support@example.com")
    web = exercised.test_client()
    web.sign_in_staff(support.email)
    assert web.get("/admin/reports/exerciser_invoices").status_code == 403


# --- register_settings --------------------------------------------------------------------------


def test_register_settings_form_saves_values_and_encrypts_the_secret(
    exercised, staff_member
) -> None:
    assert plugin_settings.get("exerciser") == {
        "endpoint": "https://pbx.example", "limit": 10, "minute_price": "1.20",
    }  # fmt: skip
    web = exercised.test_client()
    web.sign_in_staff(staff_member.email)
    page = web.get("/admin/plugins").get_data(as_text=True)
    assert "Settings: Exerciser PBX" in page and 'value="https://pbx.example"' in page

    response = web.submit(
        "/admin/plugins/exerciser/settings",
        {
            "exerciser-endpoint": "https://pbx.office.example",
            "exerciser-api_token": "tok-Секрет-42",
            "exerciser-limit": "25",
            "exerciser-minute_price": "1.35",
        },
        form_page="/admin/plugins",
    )
    assert response.status_code == 302

    assert plugin_settings.get("exerciser") == {
        "endpoint": "https://pbx.office.example",
        "api_token": "tok-Секрет-42",
        "limit": 25,
        "minute_price": "1.35",  # JSON keeps a decimal exact, as text
    }
    stored = db.session.scalars(select(PluginSetting).where(PluginSetting.key == "api_token")).one()
    assert stored.encrypted and "Секрет" not in str(stored.value)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "plugin.settings")
    ).one()
    assert entry.after["api_token"] == "********" and entry.after["limit"] == 25
    page = web.get("/admin/plugins").get_data(as_text=True)
    assert "tok-Секрет-42" not in page and "stored; leave empty to keep" in page
    assert 'value="1.35"' in page  # a stored decimal is shown in its field

    # an empty password keeps the secret; a wrong value is refused and nothing typed is lost
    web.submit(
        "/admin/plugins/exerciser/settings",
        {"exerciser-endpoint": "https://pbx.office.example", "exerciser-limit": "30"},
        form_page="/admin/plugins",
    )
    assert plugin_settings.get("exerciser")["api_token"] == "tok-Секрет-42"
    refused = web.submit(
        "/admin/plugins/exerciser/settings",
        {"exerciser-endpoint": "https://typed.example", "exerciser-limit": "0"},
        form_page="/admin/plugins",
    )
    assert refused.status_code == 200
    assert 'value="https://typed.example"' in refused.get_data(as_text=True)
    assert plugin_settings.get("exerciser")["limit"] == 30


def test_a_secret_from_another_secret_key_reads_as_not_set(exercised, make_app) -> None:
    plugin_settings.save("exerciser", {"api_token": "abc"})
    rotated = make_app(extra_plugins=(exerciser,), secret_key="a-new-key")
    with rotated.app_context():
        assert plugin_settings.get("exerciser")["api_token"] is None
    kept = make_app(
        extra_plugins=(exerciser,),
        secret_key="a-new-key",
        secret_key_fallbacks=["tests-only-secret"],
    )
    with kept.app_context():
        assert plugin_settings.get("exerciser")["api_token"] == "abc"
        assert plugin_settings.reencrypt_secrets() == (1, 0)
    with rotated.app_context():
        assert plugin_settings.get("exerciser")["api_token"] == "abc"


# --- register_product_fields --------------------------------------------------------------------


def test_register_product_fields_on_the_product_page(exercised, shop, staff_member) -> None:
    disk = shop[demo.DISK_PRODUCT]
    users = shop[demo.USERS_PRODUCT]
    disk.module = "exerciser"
    db.session.commit()
    web = exercised.test_client()
    web.sign_in_staff(staff_member.email)
    page = web.get(f"/admin/catalog/products/{disk.id}").get_data(as_text=True)
    assert 'data-plugin-fields="exerciser"' in page and "GB in a package" in page
    assert "data-plugin-fields" not in web.get(f"/admin/catalog/products/{users.id}").get_data(
        as_text=True
    )
    url = f"/admin/plugins/products/{disk.id}/exerciser"
    form_page = f"/admin/catalog/products/{disk.id}"
    response = web.submit(
        url, {"exerciser-package_gb": "10", "exerciser-backend": "command"}, form_page=form_page
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert plugin_settings.product_values(disk, "exerciser") == {
        "package_gb": 10,
        "backend": "command",
    }
    assert db.session.get(Product, disk.id).plugin_fields == {
        "exerciser": {"package_gb": 10, "backend": "command"}
    }
    refused = web.submit(url, {"exerciser-package_gb": "5000"}, form_page=form_page)
    page = web.get(refused.headers["Location"]).get_data(as_text=True)
    assert 'value="5000"' in page and "invalid-feedback" in page
    assert plugin_settings.product_values(disk, "exerciser")["package_gb"] == 10


# --- validate_order -----------------------------------------------------------------------------


def test_validate_order_refuses_with_the_plugins_message(shop, clock) -> None:
    client = make_client(clock, email="buyer@example.com")
    forbidden = shop[demo.DISK_PRODUCT]
    forbidden.name = "Forbidden disk"
    db.session.commit()
    item = CartItem(forbidden.id, "monthly", {forbidden.options[0].id: 1})
    with pytest.raises(OrderError, match=r"Forbidden disk is not sold to buyer@example\.com"):
        orders.place_order(client, [item], today=TODAY)
    assert db.session.scalar(select(func.count(Order.id))) == 0
    allowed = shop[demo.USERS_PRODUCT]
    order = orders.place_order(
        client, [CartItem(allowed.id, "monthly", {allowed.options[0].id: 1})], today=TODAY
    )
    assert order.id is not None


# --- setup_coefficient --------------------------------------------------------------------------


def test_setup_coefficient_multiplies_the_products_setup_fee(shop, clock) -> None:
    client = make_client(clock, email="setup@example.com", language="ru")
    pbx = shop[demo.PBX_DEPARTMENT]
    item = CartItem(pbx.id, "monthly")
    listed = orders.quote_cart(client, [item], today=TODAY).items[0].lines
    assert [line.amount for line in listed if "Плата за подключение" in line.description] == [
        D("500.00")
    ]
    pbx.name += " (setup x0.5555)"
    (price,) = [row for row in pbx.prices if row.cycle == "monthly"]
    price.setup_fee = D("2200.00")
    db.session.commit()
    (setup,) = [
        line
        for line in orders.quote_cart(client, [item], today=TODAY).items[0].lines
        if line.description.endswith("Плата за подключение")
    ]
    # 2 200 x 0.5555 = 1 222.10, rounded once
    assert (setup.list_amount, setup.amount) == (D("2200.00"), D("1222.10"))
    assert "Персональная скидка 44,45 %" in setup.details


def test_staff_test_a_provisioning_modules_connection(exercised, staff_member) -> None:
    web = exercised.test_client()
    web.sign_in_staff(staff_member.email)
    page = web.get("/admin/plugins").get_data(as_text=True)
    assert 'data-module="exerciser"' in page and "Test connection" in page

    web.submit("/admin/plugins/modules/exerciser/test", {}, form_page="/admin/plugins")
    assert "Connected to https://pbx.example" in web.get("/admin/plugins").get_data(as_text=True)

    plugin_settings.save("exerciser", {"endpoint": "https://unreachable.example"})
    web.submit("/admin/plugins/modules/exerciser/test", {}, form_page="/admin/plugins")
    page = web.get("/admin/plugins").get_data(as_text=True)
    assert "cannot reach https://unreachable.example" in page
    missing = web.submit("/admin/plugins/modules/nope/test", {}, form_page="/admin/plugins")
    assert missing.status_code == 404


# --- register_client_records --------------------------------------------------------------------


@pytest.fixture
def exerciser_records():
    """The exerciser's per-client state, empty before and after (client ids are reused)."""
    state = (exerciser.KEPT, exerciser.LOCKED, exerciser.MERGES)
    for part in state:
        part.clear()
    yield
    for part in state:
        part.clear()


def test_register_client_records_history_refusal_and_merge(
    exercised, exerciser_records, clock, staff_member
) -> None:
    from portal.accounts import clients
    from portal.accounts.models import Client

    target, source = make_client(clock), make_client(clock)
    target_id, source_id = target.id, source.id
    assert not clients.has_financial_history(source_id)
    exerciser.KEPT.add(source_id)
    assert clients.has_financial_history(source_id)  # the plugin's rows are history
    with pytest.raises(clients.ClientError, match="cannot be deleted"):
        clients.delete_client(source)

    exerciser.LOCKED.add(source_id)
    with pytest.raises(clients.ClientError, match=f"exerciser records of #{source_id} are locked"):
        clients.merge_clients(target, source, staff_id=staff_member.id)
    assert not exerciser.MERGES  # refused before anything moved
    assert db.session.get(Client, source_id) is not None

    exerciser.LOCKED.clear()
    clients.merge_clients(
        db.session.get(Client, target_id), db.session.get(Client, source_id), staff_id=None
    )
    assert list(exerciser.MERGES) == [(source_id, target_id)]
    assert sorted(exerciser.KEPT) == [target_id]
    assert db.session.get(Client, source_id) is None


# --- register_dashboard_counters ----------------------------------------------------------------


def test_register_dashboard_counters_on_the_dashboard_by_permission(exercised, clock) -> None:
    from portal.testing.factories import make_staff

    admin = make_staff(clock, role="administrator", email="boss@example.com")
    web = exercised.test_client()
    web.sign_in_staff(admin.email)
    page = web.get("/admin/").get_data(as_text=True)
    assert "Exerciser events" in page and 'href="/admin/exerciser/">7</a>' in page
    assert 'data-counter="exerciser_secret">' in page and "Exerciser settings" in page
    assert "Hijacked" not in page  # a core key stays the core's

    support = make_staff(clock, role="support", email="support@example.com")
    other = exercised.test_client()
    other.sign_in_staff(support.email)
    page = other.get("/admin/").get_data(as_text=True)
    assert "Exerciser events" in page and "Exerciser settings" not in page


# --- co_term_with -------------------------------------------------------------------------------


def _accepted(client, product, day: date) -> Service:
    order = orders.place_order(
        client, [CartItem(product.id, "monthly", {o.id: 1 for o in product.options})], today=day
    )
    orders.accept_order(order, today=day, send_email=False)
    return db.session.get(Service, order.items[0].service_id)


def test_co_term_with_a_plugin_chooses_the_service_a_new_one_ends_with(shop, clock) -> None:
    client = make_client(clock)
    oldest = _accepted(client, shop[demo.USERS_PRODUCT], date(2026, 3, 1))  # to 1 April
    newest = _accepted(client, shop[demo.DISK_PRODUCT], date(2026, 3, 20))  # co-termed: 1 April
    bill_due(date(2026, 4, 1))  # both renewed to 1 May; then the disk moves to its own period
    newest.period_start, newest.next_due_date = date(2026, 4, 10), date(2026, 5, 10)
    db.session.commit()
    follower = shop[demo.LICENCES_PRODUCT]
    follower.name = "Licences (follows)"
    schedule = orders.schedule_for(client, follower, billing.Cycle.MONTHLY, date(2026, 4, 20))
    assert schedule.co_termed_with is newest and schedule.next_due == date(2026, 5, 10)
    follower.name = "Licences"  # no answer: the core's choice, the oldest service
    schedule = orders.schedule_for(client, follower, billing.Cycle.MONTHLY, date(2026, 4, 20))
    assert schedule.co_termed_with is oldest and schedule.next_due == date(2026, 5, 1)
    other = make_client(clock, email="other@example.com")
    follower.name = "Licences (follows anything)"  # another client's service: ignored
    schedule = orders.schedule_for(other, follower, billing.Cycle.MONTHLY, date(2026, 4, 20))
    assert schedule.co_termed_with is None


# --- register_client_card_tabs ------------------------------------------------------------------


def test_register_client_card_tabs_adds_tabs_to_the_client_card(exercised, clock) -> None:
    from portal.testing.factories import make_staff

    client = make_client(clock, email="carded@example.com")
    admin = make_staff(clock)
    web = exercised.test_client()
    web.sign_in_staff(admin.email)
    card = web.get(f"/admin/clients/{client.id}").get_data(as_text=True)
    assert f'href="/admin/clients/{client.id}/tab/exerciser"' in card and "Exerciser tab" in card
    page = web.get(f"/admin/clients/{client.id}/tab/exerciser").get_data(as_text=True)
    assert "<b>tab of carded@example.com</b>" in page and 'id="client-tabs"' in page
    assert web.get(f"/admin/clients/{client.id}/tab/nope").status_code == 404
    support = make_staff(clock, role="support")  # may view clients, not change settings
    web = exercised.test_client()
    web.sign_in_staff(support.email)
    card = web.get(f"/admin/clients/{client.id}").get_data(as_text=True)
    assert "Exerciser tab" in card and "Secret tab" not in card
    assert web.get(f"/admin/clients/{client.id}/tab/secret").status_code == 404


# --- load_demo_data -----------------------------------------------------------------------------


def test_load_demo_data_runs_after_the_cores_demo_and_prints_the_plugins_lines(
    exercised, clock
) -> None:
    exerciser.DEMO_DAYS.clear()
    result = exercised.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "exerciser demo  nobody@example.com" in result.output
    from portal.core.clock import today

    assert [today()] == exerciser.DEMO_DAYS


# --- invoice_attachments ------------------------------------------------------------------------


def test_invoice_attachments_are_listed_and_downloaded_in_both_areas(exercised, clock) -> None:
    from portal.testing.factories import make_staff

    owner = make_client(clock, email="attached@example.com")
    invoice = _issued(owner, "100.00")
    plain = _issued(owner, "50.00")
    exerciser.ATTACHED.add(invoice.id)
    link = f"/invoices/{invoice.id}/attachments/usage.csv"
    web = exercised.test_client()
    web.sign_in_client(owner.email)
    page = web.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert f'href="{link}"' in page and "Usage statement" in page
    got = web.get(link)
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert got.data == f"invoice,{invoice.number},en\n".encode()
    assert f"filename=usage-{invoice.number}.csv" in got.headers["Content-Disposition"]
    assert "invoice-attachments" not in web.get(f"/invoices/{plain.id}").get_data(as_text=True)
    assert web.get(f"/invoices/{plain.id}/attachments/usage.csv").status_code == 404
    assert web.get(f"/invoices/{invoice.id}/attachments/other.csv").status_code == 404

    stranger = make_client(clock, email="stranger@example.com")
    other = exercised.test_client()
    other.sign_in_client(stranger.email)
    assert other.get(link).status_code == 404  # another client's invoice

    admin_link = f"/admin/billing/invoices/{invoice.id}/attachments/usage.csv"
    staff = exercised.test_client()
    staff.sign_in_staff(make_staff(clock, role="accountant").email)
    page = staff.get(f"/admin/billing/invoices/{invoice.id}").get_data(as_text=True)
    assert f'href="{admin_link}"' in page and "Usage statement" in page
    assert staff.get(admin_link).data.startswith(f"invoice,{invoice.number}".encode())
    support = exercised.test_client()
    support.sign_in_staff(make_staff(clock, role="support").email)  # no billing.view
    assert support.get(admin_link).status_code == 403


def test_a_draft_has_no_attachments(exercised, clock) -> None:
    from portal.invoicing.invoice_attachments import attachments_of

    owner = make_client(clock, email="drafted@example.com")
    draft = invoices.create_draft(owner, [(billing.charge_line("Услуга", D(1), "RUB"), None)])
    db.session.commit()
    exerciser.ATTACHED.add(draft.id)
    assert attachments_of(draft) == []
    invoices.issue_invoice(draft, today=TODAY)
    assert [a.name for a in attachments_of(draft)] == ["usage.csv"]


def test_an_attachment_name_must_fit_in_a_url() -> None:
    from portal.plugin_api import InvoiceAttachment

    with pytest.raises(ValueError, match="not"):
        InvoiceAttachment("../calls.csv", "x", "calls.csv", "text/csv", lambda: b"")


def test_the_invoice_mail_carries_the_attachments_rendered_at_delivery(
    exercised, clock, mailbox
) -> None:
    from portal.invoicing import invoice_documents
    from portal.messaging.models import OutboundMessage
    from portal.messaging.outbox import deliver_outbox

    owner = make_client(clock, email="mailed@example.com", language="ru")
    invoice = _issued(owner, "100.00")
    exerciser.ATTACHED.add(invoice.id)
    exerciser.RENDERED.clear()
    mailbox.clear()
    invoice_documents.queue_invoice_emails([invoice])
    db.session.commit()
    assert not exerciser.RENDERED  # nothing rendered when the mail is queued
    assert deliver_outbox(limit=10).sent == 1
    assert list(exerciser.RENDERED) == [invoice.id]
    [mail] = [m for m in mailbox if m["To"] == owner.email]
    files = {p.get_filename(): p for p in mail.iter_attachments()}
    assert set(files) == {f"invoice-{invoice.number}.pdf", f"usage-{invoice.number}.csv"}
    usage = files[f"usage-{invoice.number}.csv"]
    assert usage.get_content_type() == "text/csv"
    assert usage.get_payload(decode=True) == f"invoice,{invoice.number},ru\n".encode()
    message = db.session.scalar(
        select(OutboundMessage).where(OutboundMessage.dedupe_key == f"invoice-issued:{invoice.id}")
    )
    assert len(message.attachments) == 2  # kept with the message: a retry renders nothing
