"""The service functions of ``portal.plugin_api``, called the way a plugin calls them (keywords,
inside the app context of a hook or a job): each reaches the area's own service, so the audit
entry, the hook, the provisioning command and the letter happen as when staff act."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import gettext
from sqlalchemy import select

from portal import plugin_api as api
from portal.accounts.models import AuditEntry
from portal.billing import BillingError
from portal.catalog import client_rules
from portal.messaging.models import OutboundMessage
from portal.platform import demo
from portal.platform import plugin_settings as settings_service
from portal.support.models import MessageSource
from portal.testing import actions
from portal.testing.factories import make_client, make_department
from portal.testing.processes import alive
from tests.plugins import exerciser

D = Decimal
TODAY = date(2026, 11, 2)  # the clock's


@pytest.fixture
def plugged(make_app) -> Iterator[Flask]:
    """An app with the exerciser plugin: its settings, product fields, provisioner and the
    events it records."""
    other: Flask = make_app(extra_plugins=(exerciser,))
    exerciser.EVENTS.clear()
    with other.app_context():
        yield other


@pytest.fixture
def service(plugged, clock) -> api.Service:
    """An active service of a product whose Module is the exerciser's, first invoice unpaid."""
    product = actions.load_demo_catalogue()[demo.USERS_PRODUCT]
    product.module = "exerciser"
    api.session().commit()
    client = make_client(clock, company="ООО «Плагин»")
    found, _invoice = actions.order_and_accept(
        client, product, cycle="semi_annual", options={product.options[0].id: 5}, today=TODAY
    )
    exerciser.EVENTS.clear()
    return found


def audit(action: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    return list(api.session().scalars(query))


def pay_first_invoice(service: api.Service, method: str, reference: str) -> api.Payment:
    """The service's first invoice paid in full today, as a gateway's callback records it."""
    invoice = api.session().scalar(
        select(api.Invoice).where(api.Invoice.client_id == service.client_id)
    )
    return api.record_payment(
        service.client,
        amount=invoice.total,
        method=method,
        reference=reference,
        invoices=[invoice],
    )


def commands(service: api.Service) -> list[tuple[api.ProvisioningAction, dict[str, Any]]]:
    return [
        (t.action, t.payload) for t in actions.provisioning_tasks() if t.service_id == service.id
    ]


# --- time and settings ----------------------------------------------------------------------------


def test_today_is_the_providers_date_at_half_past_one_in_moscow(app, clock) -> None:
    clock.set(datetime(2026, 12, 31, 22, 30, tzinfo=UTC))  # 01:30 on 1 January in Moscow
    assert api.today() == date(2027, 1, 1)
    assert api.now() == datetime(2026, 12, 31, 22, 30, tzinfo=UTC)


def test_settings_are_the_defaults_overridden_by_what_staff_saved(plugged, service) -> None:
    assert api.plugin_settings("exerciser") == {
        "endpoint": "https://pbx.example",
        "limit": 10,
        "minute_price": "1.20",
    }
    actions.save_plugin_settings("exerciser", {"limit": 20, "api_token": "t0ken"})
    values = api.plugin_settings("exerciser")
    assert (values["limit"], values["api_token"], values["minute_price"]) == (20, "t0ken", "1.20")

    product = service.product
    assert api.product_values(product, "exerciser") == {"package_gb": 5, "backend": "ticket"}
    settings_service.save_product_values(product, "exerciser", {"package_gb": 10})
    assert api.product_values(product, "exerciser") == {"package_gb": 10, "backend": "ticket"}


# --- tickets --------------------------------------------------------------------------------------


def test_a_ticket_is_opened_for_the_client_by_the_system(plugged, service) -> None:
    department = make_department("Техническая поддержка")
    client = service.client
    ticket = api.open_ticket(
        client=client,
        subject="Quota: 10 GB -> 15 GB",
        body="Set the quota of disk1 to 15 GB.",
        department_id=department.id,
        service_id=service.id,
        priority="high",
    )
    assert (ticket.client_id, ticket.service_id, ticket.department_id) == (
        client.id,
        service.id,
        department.id,
    )
    assert ticket.priority.value == "high" and ticket.messages[0].source is MessageSource.SYSTEM
    assert ("ticket_opened", ticket.reference) in exerciser.EVENTS
    with pytest.raises(api.TicketError, match="Choose a department"):
        api.open_ticket(client=client, subject="x", body="y", department_id=department.id + 99)


# --- money ----------------------------------------------------------------------------------------


def test_a_charge_is_a_draft_with_one_taxed_line(plugged, service, clock) -> None:
    client = service.client
    draft = api.add_charge(
        client,
        description="Extra IP address",
        unit_price=D("150.00"),
        quantity=2,
        service=service,
        details=["for December"],
    )
    assert draft.status is api.InvoiceStatus.DRAFT and draft.number is None
    [line] = draft.lines
    assert (line.service_id, line.quantity, line.unit_price) == (service.id, D(2), D("150.00"))
    assert line.tax_percent == D(22) and line.details == ["for December"]  # VAT in 2026
    assert line.net + line.tax == line.total == draft.total
    assert ("invoice_created", draft.id) in exerciser.EVENTS

    loose = api.add_charge(client, description="Setup by hand", unit_price=D("1000.00"))
    [line] = loose.lines
    assert line.service_id is None
    assert (line.net, line.tax, line.total) == (D("1000.00"), D("220.00"), D("1220.00"))

    with pytest.raises(BillingError):
        api.add_charge(client, description="Float", unit_price=1.5)  # type: ignore[arg-type]
    stranger = make_client(clock)
    with pytest.raises(ValueError, match="another client"):
        api.add_charge(stranger, description="Not theirs", unit_price=D(1), service=service)


def test_a_charge_can_be_issued_with_its_own_due_date_and_cancelled(plugged, service) -> None:
    """``issue=True``: numbered and payable at once, due after ``due_days``; ``commit=False``
    leaves it to the caller's transaction; ``cancel_invoice`` cancels it as staff would."""
    client = service.client
    issued = api.add_charge(
        client, description="Sessions over the tariff", unit_price=D("500.00"), service=service,
        issue=True, due_days=30,
    )  # fmt: skip
    assert issued.status is api.InvoiceStatus.UNPAID and issued.number
    assert (issued.issue_date, issued.due_date) == (TODAY, date(2026, 12, 2))
    assert ("invoice_issued", issued.number) in exerciser.EVENTS

    joined = api.add_charge(
        client, description="Joins", unit_price=D("1.00"), issue=True, commit=False
    )
    joined_id = joined.id
    api.session().rollback()  # the caller's transaction fails: no invoice is left behind
    assert api.session().get(api.Invoice, joined_id) is None

    api.cancel_invoice(issued)
    api.session().expire_all()
    assert issued.status is api.InvoiceStatus.CANCELLED
    assert audit("invoice.cancel")[0].entity_id == str(issued.id)
    with pytest.raises(api.InvoiceError, match="Only drafts and unpaid"):
        api.cancel_invoice(issued)


def test_credit_is_added_audited_and_refused_unless_positive(plugged, clock) -> None:
    client = make_client(clock)
    assert api.credit_balance(client) == D("0.00")
    assert api.add_credit(client, D("250.00"), description="Outage of 3 hours") == D("250.00")
    assert api.add_credit(client, D("50.00"), description="Goodwill") == D("300.00")
    first = audit("credit.add")[0]
    assert first.client_id == client.id
    assert first.after == {
        "amount": "250.00",
        "currency": client.currency,
        "description": "Outage of 3 hours",
    }
    for amount in (D(0), D("-1.00")):
        with pytest.raises(api.PaymentError, match="more than zero"):
            api.add_credit(client, amount, description="No")
    with pytest.raises(api.PaymentError, match="why"):
        api.add_credit(client, D("1.00"), description="   ")
    with pytest.raises(BillingError):
        api.add_credit(client, D("1.005"), description="Half a kopeck")
    assert api.credit_balance(client) == D("300.00") and len(audit("credit.add")) == 2


def test_a_gateways_payment_is_recorded_once(plugged, service) -> None:
    first = pay_first_invoice(service, "exerciser", "tx-42")
    again = pay_first_invoice(service, "exerciser", "tx-42")  # the callback delivered twice
    [allocation] = first.allocations
    invoice = api.session().get(api.Invoice, allocation.invoice_id)
    assert again.id == first.id and invoice.status is api.InvoiceStatus.PAID
    assert first.payment_date == TODAY  # the business date when none is given
    assert [e for e in exerciser.EVENTS if e[0] == "payment_received"] == [
        ("payment_received", "tx-42")
    ]


# --- services -------------------------------------------------------------------------------------


def test_a_plugin_suspends_and_unsuspends_a_service(plugged, service) -> None:
    assert api.suspend_service(service, reason="exerciser:fraud")
    assert service.status is api.ServiceStatus.SUSPENDED
    assert service.suspension_reason == "exerciser:fraud"
    assert ("service_suspended", (service.id, "exerciser:fraud")) in exerciser.EVENTS
    assert (api.ProvisioningAction.SUSPEND, {"reason": "exerciser:fraud", "by": "staff"}) in (
        commands(service)
    )
    assert audit("service.update")[-1].after == {"status": "suspended"}
    assert not api.suspend_service(service, reason="again")  # not active: nothing happens
    with pytest.raises(ValueError, match="reason"):
        api.suspend_service(service, reason=" ")

    # paying does not lift a plugin's suspension (only one for non-payment)
    payment = pay_first_invoice(service, "bank", "п/п 7")
    paid = api.session().get(api.Invoice, payment.allocations[0].invoice_id)
    assert paid.status is api.InvoiceStatus.PAID
    assert service.status is api.ServiceStatus.SUSPENDED

    assert api.unsuspend_service(service)
    assert (service.status, service.suspension_reason) == (api.ServiceStatus.ACTIVE, "")
    assert ("service_unsuspended", service.id) in exerciser.EVENTS
    assert commands(service)[-1][0] is api.ProvisioningAction.UNSUSPEND
    assert not api.unsuspend_service(service)


def test_a_command_is_queued_once_without_touching_the_service(plugged, service) -> None:
    before = len(commands(service))
    block = api.ProvisioningAction.SUSPEND
    assert api.queue_provisioning(service, block, payload={"reason": "quota"}, dedupe_key="q:1")
    api.session().commit()
    assert not api.queue_provisioning(service, block, dedupe_key="q:1")
    assert commands(service)[before:] == [(block, {"reason": "quota"})]
    assert service.status is api.ServiceStatus.ACTIVE


# --- mail, language, transactions -----------------------------------------------------------------


def test_a_letter_to_the_client_is_queued_once_in_the_outbox(plugged, service) -> None:
    client = service.client
    for _run in range(2):
        api.email_client(
            client, subject="Quota raised", text="15 GB now.", kind="services", dedupe_key="q:15"
        )
    api.session().commit()
    [letter] = api.session().scalars(
        select(OutboundMessage).where(OutboundMessage.subject == "Quota raised")
    )
    assert (letter.to_addrs, letter.text, letter.client_id) == (
        [client.email],
        "15 GB now.",
        client.id,
    )


def test_texts_for_a_client_are_in_the_clients_language(plugged, service) -> None:
    client = service.client
    client.language = "ru"
    with api.client_locale(client):
        assert gettext("Choose a department.") == "Выберите отдел."
    client.language = None
    with api.client_locale(client):
        assert gettext("Choose a department.") == "Choose a department."


def test_a_savepoint_rolls_back_its_part_only(plugged, clock) -> None:
    client = make_client(clock)
    client.phone = "+7 900 000-00-01"
    with pytest.raises(RuntimeError), api.savepoint():
        client.company = "Lost"
        api.session().flush()
        raise RuntimeError("one row of a batch failed")
    api.session().commit()
    api.session().expire_all()
    assert (client.phone, client.company) == ("+7 900 000-00-01", "")


def test_a_command_runs_with_no_transaction_open(plugged, service) -> None:
    """A read is ended before the program starts; a write would hold its locks for the whole
    command, so it is refused and the program never starts."""
    api.session().get(api.Service, service.id)
    assert api.session().in_transaction()
    done = api.run_command(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
    assert not api.session().in_transaction()

    service.username = "changed, not written"
    with pytest.raises(RuntimeError, match="commit first, or write after"):
        api.run_command(["sh", "-c", "echo started"], timeout=30)
    api.session().flush()
    with pytest.raises(RuntimeError, match="commit first, or write after"):
        api.run_command(["sh", "-c", "echo started"], timeout=30)
    api.session().rollback()


def test_a_timeout_ends_the_program_and_everything_it_started(app, tmp_path: Path) -> None:
    """A script starts a helper in the background and hangs: after the timeout neither the
    script nor its helper is left running (``subprocess.run`` would leave the helper)."""
    pids = tmp_path / "pids"
    script = f"sleep 600 & echo $! >> {pids}; echo $$ >> {pids}; exec sleep 600"
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            api.run_command(["sh", "-c", script], timeout=1)
        started = [int(pid) for pid in pids.read_text().split()]
        assert len(started) == 2
        assert not [pid for pid in started if alive(pid)]
    finally:
        for pid in pids.read_text().split() if pids.exists() else ():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


# --- ending with the period, staff mail, views ----------------------------------------------------


def test_a_service_is_set_to_end_with_its_period_and_kept_again(plugged, service) -> None:
    with pytest.raises(ValueError):
        api.terminate_at_period_end(service, reason=" ")
    assert api.terminate_at_period_end(service, reason="onec:left") is True
    assert (service.terminate_at_period_end, service.termination_reason) == (True, "onec:left")
    assert api.terminate_at_period_end(service, reason="again") is False  # the reason is kept
    assert service.termination_reason == "onec:left"
    assert [e.after for e in audit("service.update")][-1] == {
        "terminate_at_period_end": True,
        "termination_reason": "onec:left",
    }
    assert api.keep_after_period_end(service) is True
    assert (service.terminate_at_period_end, service.termination_reason) == (False, "")
    assert api.keep_after_period_end(service) is False
    assert service.status is api.ServiceStatus.ACTIVE


def test_a_letter_to_a_staff_member_is_queued_once(plugged, clock) -> None:
    from portal.testing.factories import make_staff

    manager = make_staff(clock, role="sales_manager", email="manager@example.com")
    manager.language = "ru"
    with api.staff_locale(manager):
        subject = gettext("Payments")
    assert api.email_staff(manager, subject=subject, text="Позвонить", dedupe_key="k1") is True
    assert api.email_staff(manager, subject=subject, text="Позвонить", dedupe_key="k1") is True
    api.session().commit()
    sent = list(api.session().scalars(select(OutboundMessage)))
    assert [(m.to_addrs, m.subject) for m in sent] == [(["manager@example.com"], "Платежи")]
    assert sent[0].headers["Auto-Submitted"] == "auto-generated"
    manager.is_active = False
    assert api.email_staff(manager, subject="x", text="y") is False
    link = api.external_url("admin.dashboard")
    assert link.startswith(("http://", "https://")) and link.endswith("/admin/")


def test_prepaid_usage_is_debited_below_zero_and_refused_unless_positive(plugged, clock) -> None:
    client = make_client(clock)
    api.add_credit(client, D("10.00"), description="Prepaid")
    assert api.use_credit(client, D("7.50"), description="Calls 1-100") == D("2.50")
    assert api.use_credit(client, D("4.00"), description="Calls 101-150") == D("-1.50")
    api.session().commit()
    assert api.credit_balance(client) == D("-1.50")
    for amount in (D(0), D("-1.00")):
        with pytest.raises(api.PaymentError, match="more than zero"):
            api.use_credit(client, amount, description="No")
    with pytest.raises(BillingError):
        api.use_credit(client, D("0.005"), description="Half a kopeck")
    other = make_client(clock, email="second@example.com")
    assert api.use_credits({client.id: D("1.00"), other.id: D("2.50")}, description="Batch") == {
        client.id: D("-2.50"),
        other.id: D("-2.50"),
    }


def test_prepaid_usage_is_a_row_of_the_statement_of_account(plugged, clock) -> None:
    from portal.invoicing import account_statements

    client = make_client(clock)
    api.record_payment(client, amount=D("100.00"), method="bank", reference="pp-usage")
    api.use_credit(client, D("30.00"), description="Calls")
    api.session().commit()
    statement = account_statements.statement(client, date(2026, 1, 1), date(2026, 12, 31))
    labels = [account_statements.row_label(row) for row in statement.rows]
    assert any(label.startswith("Prepaid usage") for label in labels), labels
    assert statement.closing == -api.credit_balance(client)


# --- personal coefficients ------------------------------------------------------------------------


def test_a_personal_coefficient_is_a_core_discount_changed_and_ended_by_its_note(
    app, clock
) -> None:
    client = make_client(clock, email="coefficient@example.com")
    product = actions.load_demo_catalogue()[demo.USERS_PRODUCT]

    api.set_personal_coefficient(client, product, D("0.1111"), note="plugin x")
    (discount,) = client_rules.personal_discounts(client.id, TODAY)
    assert discount.recurring == D("0.1111") and discount.product == product.id
    assert client_rules.discount_detail(discount.recurring)
    api.set_personal_coefficient(client, product, D("0.5000"), note="plugin x")
    (discount,) = client_rules.personal_discounts(client.id, TODAY)
    assert discount.recurring == D("0.5")  # the same row, changed
    with pytest.raises(api.DiscountError):
        api.set_personal_coefficient(client, product, D("1.2"), note="plugin x")
    api.set_personal_coefficient(client, product, None, note="plugin x")
    assert client_rules.personal_discounts(client.id, TODAY) == ()
    assert audit("client_discount.create") or audit("client_discount.update")


def test_a_plugins_html_prints_cyrillic_with_the_core_fonts(app) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    fonts = api.pdf_fonts()
    html = (
        '<html><head><meta charset="utf-8"><style>'
        f'@font-face {{ font-family: S; src: url("{fonts["regular"].as_uri()}"); }}'
        "body { font-family: S; }</style></head><body>Детализация звонков 10,00</body></html>"
    )
    text = PdfReader(BytesIO(api.render_pdf(html))).pages[0].extract_text()
    assert "Детализация звонков 10,00" in text


def test_money_field_reads_a_russian_decimal_comma(app) -> None:
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    class Form(FlaskForm):
        class Meta:
            csrf = False

        price = api.MoneyField("Price", places=4)

    with app.test_request_context():
        form = Form(formdata=MultiDict({"price": "1500,5000"}))
        assert form.validate() and form.price.data == D("1500.5")
        assert not Form(formdata=MultiDict({"price": "-1"})).validate()
