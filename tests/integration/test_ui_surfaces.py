"""Russian outside the pages: billing errors, mail (money in the client's locale, links on the
configured base URL, Message-IDs on the configured domain), PDFs, exports."""

import csv
import io
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from flask import Flask
from flask_babel import force_locale
from pypdf import PdfReader

from portal import billing
from portal.catalog import catalog
from portal.core.extensions import db
from portal.invoicing import invoices
from portal.invoicing.invoice_documents import invoice_pdf_bytes
from portal.messaging import outbox, templates
from portal.messaging.outbox import deliver_outbox
from portal.platform.jobs.registry import jobs
from portal.platform.jobs.runs import run_job

D = Decimal
ISSUED = date(2026, 11, 2)
DUE = date(2026, 11, 12)


def _issue(client, amount: str) -> object:
    draft = invoices.create_draft(client, [(billing.charge_line("Услуга", D(amount), "RUB"), None)])
    db.session.commit()
    return invoices.issue_invoice(draft, today=ISSUED, due_days=(DUE - ISSUED).days)


def test_billing_errors_read_in_russian_with_the_locales_digits(app: Flask) -> None:
    error = billing.PricePrecision(field="Unit price", value=D("100.12345"))
    assert error.message == "Unit price 100.12345 has more than 4 decimal places."
    with force_locale("ru"):
        text = catalog.billing_message(error)
    assert "Unit price" not in text and "100,12345" in text and "decimal places" not in text
    with force_locale("en"):
        assert catalog.billing_message(error) == (
            "Unit price 100.12345 has more than 4 decimal places."
        )


def test_a_reminder_from_a_job_has_russian_money_and_a_link_on_base_url(
    app: Flask, client_account, clock, mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config["PORTAL"], "base_url", "https://billing.example.ru:8443/")
    client_account.language = "ru"
    invoice = _issue(client_account, "16323.60")
    clock.set(datetime.combine(date(2026, 11, 26), time(6, 0), UTC))
    done = run_job("billing.reminders", jobs()["billing.reminders"].run, date(2026, 11, 26))
    assert done is not None and not done.error
    assert deliver_outbox(limit=10).sent == 1
    [mail] = mailbox
    body = mail.get_content()
    assert "16\xa0323,60\xa0₽" in body
    assert f"https://billing.example.ru:8443/invoices/{invoice.id}" in body
    assert ":5000" not in body and "16323,6000" not in body and "16323.60" not in body
    assert mail["Message-ID"].endswith("@portal.test>")  # the domain of mail_from


def test_message_ids_use_the_configured_domain(app: Flask, monkeypatch) -> None:
    monkeypatch.setitem(app.config["PORTAL"], "mail_from", "billing@localhost")
    monkeypatch.setitem(app.config["PORTAL"], "base_url", "https://billing.example.ru")
    assert outbox.new_message_id().endswith("@billing.example.ru>")
    monkeypatch.setitem(app.config["PORTAL"], "mail_domain", "mail.example.ru")
    assert outbox.new_message_id().endswith("@mail.example.ru>")


def test_without_base_url_links_follow_the_request(app: Flask, monkeypatch) -> None:
    monkeypatch.setitem(app.config["PORTAL"], "base_url", "")
    with app.test_request_context("/", base_url="http://portal.internal:5065"):
        link = templates.external_url("client_auth.login")
    assert link.startswith("http://portal.internal:5065/")
    with app.app_context():
        assert templates.public_base_url() == "http://localhost"  # a job, nothing to go by


def test_mail_settings_warn_while_base_url_is_unset(app: Flask, staff_web, monkeypatch) -> None:
    monkeypatch.setitem(app.config["PORTAL"], "base_url", "")
    page = staff_web.get("/admin/settings/mail").get_data(as_text=True)
    assert 'id="base-url-unset"' in page
    monkeypatch.setitem(app.config["PORTAL"], "base_url", "https://billing.example.ru")
    page = staff_web.get("/admin/settings/mail").get_data(as_text=True)
    assert 'id="base-url-unset"' not in page and "https://billing.example.ru" in page


def test_the_invoice_pdf_prints_money_in_russian(app: Flask, client_account) -> None:
    invoice = _issue(client_account, "16323.60")
    data = invoice_pdf_bytes(invoice, "ru")
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)
    assert "16 323,60" in text and "16323.60" not in text and "16323,6000" not in text


def test_people_csv_has_comma_decimals_and_no_trailing_zeros(
    app: Flask, staff_web, client_account
) -> None:
    _issue(client_account, "16323.60")
    export = staff_web.get("/admin/billing/invoices?format=csv")
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig")), delimiter=";"))
    assert "16323,60" in rows[1] and not any("16323,6000" in cell for cell in rows[1])
