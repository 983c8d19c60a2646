"""Staff invoice work in the admin area: draft -> lines -> issue & send (PDF read back) ->
payments -> refund -> statement; the provider's details."""

import io
import re
from datetime import date
from decimal import Decimal

from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from portal.core.extensions import db
from portal.invoicing import payments
from portal.invoicing.models import Invoice, InvoiceStatus, Payment
from portal.messaging.outbox import deliver_outbox
from portal.platform import runtime_settings

COMPANY = {
    "name": "ООО «Облако»",
    "inn": "7707083893",
    "kpp": "773601001",
    "address": "Москва, ул. Вавилова, 19",
    "bank_name": "ПАО Сбербанк",
    "bank_bic": "044525225",
    "bank_account": "40702810303800006047",
    "bank_corr_account": "30101810400000000225",
    "signatory": "Иванов И. И.",
    "accountant": "Петрова П. П.",
    "phone": "",
    "email": "",
    "invoice_number_format": "{year}-{number:06d}",
    "invoice_due_days": "10",
}


def _draft(staff_web, client_account) -> int:
    response = staff_web.submit("/admin/billing/invoices/new", {"client_id": client_account.id})
    assert response.status_code == 302
    return int(response.location.rsplit("/", 1)[1])


def _add(staff_web, invoice_id: int, **line: str) -> None:
    url = f"/admin/billing/invoices/{invoice_id}"
    # these invoices are without VAT: an empty VAT would be the client's rate (22 % in 2026)
    staff_web.submit(f"{url}/lines", {"quantity": "1", "tax_mode": "none", **line}, form_page=url)


def test_draft_issue_send_pdf_and_pay(app: Flask, staff_web, client_account, mailbox) -> None:
    assert staff_web.submit("/admin/billing/settings", COMPANY).status_code == 302
    client_account.language = "ru"  # documents and mail in the client's language
    db.session.commit()
    invoice_id = _draft(staff_web, client_account)
    url = f"/admin/billing/invoices/{invoice_id}"
    _add(
        staff_web,
        invoice_id,
        description="Доступ на пользователя «Стандарт»",
        quantity="5",
        unit_price="4560.00",
        period_start="2019-02-01",
        period_end="2019-07-31",
    )
    _add(staff_web, invoice_id, description="Пакет лицензий 1С в аренду", unit_price="12825.00")
    _add(staff_web, invoice_id, description="БИТ:Отель 8. ПРОФ", unit_price="13380.00")
    _add(staff_web, invoice_id, description="Промо-код: Скидка 5%", unit_price="-669.00")
    page = staff_web.get(url).get_data(as_text=True)
    assert "(01.02.2019 - 31.07.2019)" in page
    total = re.search(r'id="invoice-total">([^<]+)<', page).group(1)
    assert total.replace(",", "").replace("\xa0", "") == "RUB48336.00", total
    assert mailbox == [] and staff_web.get(f"{url}/pdf").status_code == 404  # a draft: nothing out

    staff_web.submit(f"{url}/issue", {"send": "1"}, form_page=url)
    invoice = db.session.get(Invoice, invoice_id)
    assert invoice.number == "2026-000001" and invoice.status is InvoiceStatus.UNPAID
    report = deliver_outbox(limit=10)
    assert report.sent == 1
    message = mailbox[0]
    assert message["To"] == client_account.email and "2026-000001" in message["Subject"]
    pdf = next(
        part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"
    )
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.get_content())).pages)
    assert "ООО «Ромашка»" in text and "2026-000001" in text and "48 336,00" in text
    assert "Сорок восемь тысяч триста тридцать шесть рублей 00 копеек" in text
    assert "ООО «Облако»" in text and "40702810303800006047" in text

    staff_web.submit(
        f"{url}/payments",
        {
            "amount": "40000.00",
            "payment_date": "2026-11-02",
            "method": "bank",
            "reference": "п/п 101",
        },
        form_page=url,
    )
    db.session.refresh(invoice)
    assert invoice.status is InvoiceStatus.PARTIALLY_PAID
    staff_web.submit(
        f"{url}/payments",
        {
            "amount": "9000.00",
            "payment_date": "2026-11-03",
            "method": "bank",
            "reference": "п/п 102",
        },
        form_page=url,
    )
    db.session.refresh(invoice)
    assert invoice.status is InvoiceStatus.PAID
    assert payments.credit_balance(client_account.id, "RUB") == Decimal("664.00")

    statement = staff_web.get(
        f"/admin/billing/clients/{client_account.id}/statement"
        "?date_from=2026-01-01&date_to=2026-12-31"
    ).get_data(as_text=True)
    assert "п/п 101" in statement and "2026-000001" in statement
    closing = re.search(r'id="closing">([^<]+)<', statement).group(1)
    assert closing.startswith("-") and closing.endswith("664.00"), closing  # we owe the client


def test_wrong_line_input_is_explained_and_nothing_changes(staff_web, client_account) -> None:
    invoice_id = _draft(staff_web, client_account)
    url = f"/admin/billing/invoices/{invoice_id}"
    staff_web.submit(
        f"{url}/lines",
        {"description": "X", "quantity": "1", "unit_price": "1.00001"},
        form_page=url,
    )
    page = staff_web.get(url).get_data(as_text=True)
    assert "more than 4 decimal places" in page or "decimal places" in page
    staff_web.submit(
        f"{url}/lines", {"description": "X", "quantity": "1", "unit_price": "abc"}, form_page=url
    )
    assert "Unit price" in staff_web.get(url).get_data(as_text=True)
    assert db.session.get(Invoice, invoice_id).lines == []
    issue = staff_web.submit(f"{url}/issue", {}, form_page=url, follow_redirects=True)
    assert "at least one line" in issue.get_data(as_text=True)


def test_refund_and_mass_payment(staff_web, client_account, clock) -> None:
    ids = []
    for amount in ("100.00", "200.00"):
        invoice_id = _draft(staff_web, client_account)
        _add(staff_web, invoice_id, description="Услуга", unit_price=amount)
        url = f"/admin/billing/invoices/{invoice_id}"
        staff_web.submit(f"{url}/issue", {}, form_page=url)
        ids.append(invoice_id)
    first = db.session.get(Invoice, ids[0])
    page = staff_web.get(f"/admin/billing/invoices/{ids[0]}").get_data(as_text=True)
    assert first.balance > 0
    assert re.search(rf'name="amount"[^>]*value="{first.balance:.2f}"', page)  # the balance due
    mass = f"/admin/billing/clients/{client_account.id}/mass-payment"
    form = staff_web.get(mass).get_data(as_text=True)
    total = sum((db.session.get(Invoice, i).balance for i in ids), Decimal(0))
    assert re.search(rf'name="amount"[^>]*value="{total:.2f}"', form)  # everything due
    assert len(re.findall(r'<input checked[^>]*name="invoices"', form)) == 2
    russian = staff_web.get(mass, headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "100,00\xa0₽" in russian.split('name="invoices"')[1]  # the balances formatted
    db.session.expire_all()  # the invoices read above are about to be paid
    response = staff_web.submit(
        mass,
        {
            "amount": "350.00",
            "payment_date": "2026-11-02",
            "method": "bank",
            "reference": "п/п 7",
            "invoices": ids,
        },
    )
    assert response.status_code == 302
    assert [db.session.get(Invoice, i).status for i in ids] == [InvoiceStatus.PAID] * 2
    assert payments.credit_balance(client_account.id, "RUB") == Decimal("50.00")
    payment = db.session.scalar(select(Payment))
    staff_web.submit(
        f"/admin/billing/payments/{payment.id}/refund",
        {"amount": "200.00", "to_credit": "y"},
        form_page="/admin/billing/payments",
    )
    assert db.session.get(Invoice, ids[1]).status is InvoiceStatus.REFUNDED
    assert payments.credit_balance(client_account.id, "RUB") == Decimal("250.00")


def test_company_details_are_validated(staff_web) -> None:
    page = staff_web.submit("/admin/billing/settings", {**COMPANY, "inn": "7707083894"})
    assert "check digits are wrong" in page.get_data(as_text=True)
    page = staff_web.submit("/admin/billing/settings", {**COMPANY, "invoice_number_format": "{x}"})
    assert "Use {year} and {number}" in page.get_data(as_text=True)
    assert runtime_settings.get("company") is None


def test_overdue_counter(staff_web, client_account, clock) -> None:
    from datetime import timedelta

    invoice_id = _draft(staff_web, client_account)
    _add(staff_web, invoice_id, description="Услуга", unit_price="10.00")
    url = f"/admin/billing/invoices/{invoice_id}"
    staff_web.submit(f"{url}/issue", {}, form_page=url)
    pattern = r'data-counter="overdue_invoices">\s*<a href="/admin/billing/invoices/overdue">(\d+)<'
    assert re.search(pattern, staff_web.get("/admin/").get_data(as_text=True)).group(1) == "0"
    clock.advance(timedelta(days=11))
    assert re.search(pattern, staff_web.get("/admin/").get_data(as_text=True)).group(1) == "1"
    assert date(2026, 11, 12) == db.session.get(Invoice, invoice_id).due_date
