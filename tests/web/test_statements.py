"""Statements of account in both areas: the page, the CSV and the акт сверки PDF (text read
back with pypdf), the period form and its Russian errors, and the client's own data only."""

import io
import re
from datetime import date
from decimal import Decimal

from flask import Flask
from pypdf import PdfReader

from portal import billing
from portal.core.extensions import db
from portal.invoicing import invoices, payments
from portal.invoicing.account_statements import client_position
from portal.invoicing.models import CreditReason
from portal.platform import runtime_settings
from portal.testing.factories import make_client

D = Decimal
RU = {"Accept-Language": "ru-RU,ru;q=0.9"}
#: A money amount as the code holds it, never as a reader should see it: 23736.26, 500.0000.
RAW_MONEY = re.compile(r"(?<![\d.:/-])\d+\.\d{2,4}(?![\d.])")
COMPANY = {
    "name": "ООО «Облако»",
    "inn": "7707083893",
    "kpp": "773601001",
    "signatory": "Иванов И. И.",
    "accountant": "Петрова П. П.",
}


def _issued(client, amount: str, day: date) -> invoices.Invoice:
    draft = invoices.create_draft(client, [(billing.charge_line("Услуга", D(amount), "RUB"), None)])
    db.session.commit()
    return invoices.issue_invoice(draft, today=day)


def _history(client) -> None:
    """The issue's account: a paid top-up, an invoice paid from it, a downgrade credit of
    5 791,66, then an unpaid invoice of 500: the client holds 5 291,66 net."""
    top_up = invoices.issue_top_up(client, D("2000.00"))
    payments.record_payment(
        client,
        amount=D("2000.00"),
        method="bank",
        reference="п/п 555",
        payment_date=date(2026, 11, 2),
        invoices=[top_up],
    )
    payments.apply_credit(_issued(client, "2000.00", date(2026, 11, 2)))
    payments.add_credit(client, D("5791.66"), CreditReason.DOWNGRADE, description="Тариф")
    db.session.commit()
    _issued(client, "500.00", date(2026, 11, 2))


def _pdf_text(data: bytes) -> str:
    return "".join(
        page.extract_text().replace("\xa0", " ") for page in PdfReader(io.BytesIO(data)).pages
    )


def test_admin_statement_page_csv_and_reconciliation(app: Flask, staff_web, client_account) -> None:
    runtime_settings.put("company", COMPANY)
    client_account.inn, client_account.kpp = "7701234567", "770101001"
    db.session.commit()
    _history(client_account)
    assert client_position(client_account.id, "RUB") == D("-5291.66")
    card = staff_web.get(f"/admin/clients/{client_account.id}", headers=RU).get_data(as_text=True)
    assert f"/admin/billing/clients/{client_account.id}/statement" in card

    url = f"/admin/billing/clients/{client_account.id}/statement"
    page = staff_web.get(url, headers=RU).get_data(as_text=True)  # defaults: 01.01 to today
    closing = re.search(r'id="closing">([^<]+)<', page).group(1)
    assert closing.replace("\xa0", " ").startswith("-5 291,66"), closing
    assert "Корректировка" not in page and "Счёт на пополнение" not in page
    assert not RAW_MONEY.search(re.sub(r"<[^>]+>", " ", page.split('id="statement"')[1]))

    csv = staff_web.get(f"{url}.csv?date_from=2026-01-01&date_to=2026-11-02", headers=RU)
    text = csv.get_data(as_text=True)
    assert csv.mimetype == "text/csv" and "-5291,66" in text and "5791,66" in text
    assert not RAW_MONEY.search(text)

    pdf = staff_web.get(
        f"/admin/billing/clients/{client_account.id}/reconciliation.pdf"
        "?date_from=2026-01-01&date_to=2026-11-02"
    )
    assert pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data)
    for expected in (
        "Акт сверки взаимных расчётов",
        "ООО «Облако»",
        "7707083893",
        "773601001",
        "ООО «Ромашка»",
        "7701234567",
        "Сальдо начальное",
        "Обороты за период",
        "Сальдо конечное",
        "По данным ООО «Облако» на 02.11.2026 задолженность в пользу ООО «Ромашка» составляет",
        "5 291,66",
        "Пять тысяч двести девяносто один рубль 66 копеек",
        "Иванов И. И.",
    ):
        assert expected in text, expected


def test_no_debt_sentence(app: Flask, staff_web, client_account) -> None:
    invoice = _issued(client_account, "860.00", date(2026, 3, 1))
    payments.record_payment(
        client_account,
        amount=D("860.00"),
        method="bank",
        reference="п/п 1",
        payment_date=date(2026, 3, 2),
        invoices=[invoice],
    )
    pdf = staff_web.get(
        f"/admin/billing/clients/{client_account.id}/reconciliation.pdf"
        "?date_from=2026-03-01&date_to=2026-03-31"
    )
    text = _pdf_text(pdf.data)
    assert "задолженность отсутствует" in text and "860,00" in text


def test_period_errors_are_explained_in_russian(app: Flask, staff_web, client_account) -> None:
    url = f"/admin/billing/clients/{client_account.id}/statement"
    reversed_ = staff_web.get(f"{url}?date_from=2026-05-01&date_to=2026-04-01", headers=RU)
    assert reversed_.status_code == 400
    assert "Конец периода раньше его начала." in reversed_.get_data(as_text=True)
    garbage = staff_web.get(f"{url}.csv?date_from=01/05/2026", headers=RU)
    assert garbage.status_code == 400 and garbage.mimetype == "text/html"
    assert "Введите дату в виде ГГГГ-ММ-ДД" in garbage.get_data(as_text=True)


def test_client_sees_only_their_own_statement(
    app: Flask, client_web, client_account, clock
) -> None:
    runtime_settings.put("company", COMPANY)
    _history(client_account)
    stranger = make_client(clock, company="ООО «Чужое»")
    _issued(stranger, "77777.00", date(2026, 11, 2))
    home = client_web.get("/", headers=RU).get_data(as_text=True)
    assert "/statement" in home  # in the menu
    page = client_web.get("/statement", headers=RU).get_data(as_text=True)
    assert "5 291,66" in page.replace("\xa0", " ") and "77 777" not in page.replace("\xa0", " ")
    assert not RAW_MONEY.search(re.sub(r"<[^>]+>", " ", page.split('id="statement"')[1]))
    csv = client_web.get("/statement.csv?date_from=2026-01-01&date_to=2026-11-02")
    assert "-5291,66" in csv.get_data(as_text=True)
    assert "77777" not in csv.get_data(as_text=True)
    pdf = client_web.get("/reconciliation.pdf?date_from=2026-01-01&date_to=2026-11-02")
    text = _pdf_text(pdf.data)
    assert "ООО «Ромашка»" in text and "ООО «Чужое»" not in text and "5 291,66" in text
    english = client_web.get("/reconciliation.pdf?lang=en&date_from=2026-01-01&date_to=2026-11-02")
    assert "Reconciliation Statement" in _pdf_text(english.data)
    refused = client_web.get("/statement?date_to=2025-01-01", headers=RU)
    assert refused.status_code == 400
