"""Invoices as documents, as users met them (Russian UI, 2026, 22 % VAT): an invoice mixing
prices with and without VAT prints everywhere and adds up; a paid invoice states its sum; a
credit note is a correction, not a payment request; a manual line's empty VAT is the client's
rate."""

import io
import re
from decimal import Decimal as D

from flask import Flask
from pypdf import PdfReader

from portal import billing
from portal.core.extensions import db
from portal.invoicing import credit_notes, invoices, payments
from portal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from portal.messaging.outbox import deliver_outbox


def pdf_text(data: bytes) -> str:
    """The PDF's text with every run of whitespace as one space (cells wrap at will)."""
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def _draft(staff_web, client) -> str:
    response = staff_web.submit("/admin/billing/invoices/new", {"client_id": client.id})
    return response.location.rsplit("/", 1)[1]


def _add(staff_web, invoice_id: str, **line: str) -> None:
    url = f"/admin/billing/invoices/{invoice_id}"
    response = staff_web.submit(f"{url}/lines", {"quantity": "1", **line}, form_page=url)
    assert response.status_code == 302


def _mixed_invoice(staff_web, client) -> Invoice:
    """3 × 4 000,00 + 22 % VAT, and a manual line of 3 000,00 whose price includes 22 % VAT."""
    invoice_id = _draft(staff_web, client)
    _add(
        staff_web,
        invoice_id,
        description="Виртуальный сервер",
        quantity="3",
        unit_price="4000",
        tax_mode="rate",
        tax_percent="22",
    )
    _add(
        staff_web,
        invoice_id,
        description="Настройка",
        unit_price="3000.00",
        tax_mode="rate",
        tax_percent="22",
        tax_inclusive="y",
    )
    url = f"/admin/billing/invoices/{invoice_id}"
    staff_web.submit(f"{url}/issue", {"send": "1"}, form_page=url)
    return db.session.get(Invoice, int(invoice_id))


def test_a_mixed_vat_invoice_prints_everywhere_and_adds_up(
    app: Flask, staff_web, client_web, client_account, mailbox
) -> None:
    client_account.language = "ru"  # documents and mail in the client's language
    db.session.commit()
    invoice = _mixed_invoice(staff_web, client_account)
    assert invoice.status is InvoiceStatus.UNPAID
    # 12 000,00 net + 2 640,00 VAT; 3 000,00 gross = 2 459,02 net + 540,98 VAT
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        D("14459.02"),
        D("3180.98"),
        D("17640.00"),
    )
    admin = f"/admin/billing/invoices/{invoice.id}"
    for url in (f"{admin}/pdf", f"{admin}/pdf?lang=en", f"/invoices/{invoice.id}/pdf"):
        web = client_web if url.startswith("/invoices") else staff_web
        response = web.get(url)
        assert response.status_code == 200, url
    text = pdf_text(staff_web.get(f"{admin}/pdf").data)
    assert "Сумма без НДС" in text and "Сумма с НДС" in text
    # each line: quantity × price = its amount (without VAT, or with VAT where marked *)
    assert "3 шт. 4 000,00 12 000,00 22 % 2 640,00 14 640,00" in text
    assert "1 шт. 3 000,00* 2 459,02 22 % 540,98 3 000,00" in text
    assert "Итого без НДС: 14 459,02" in text
    assert "НДС 22 %: 3 180,98" in text
    assert "Всего (с учётом НДС): 17 640,00" in text
    assert "Всего к оплате: 17 640,00" in text
    assert "Семнадцать тысяч шестьсот сорок рублей 00 копеек" in text
    assert "в т.ч. НДС 22 % - 3 180,98 руб." in text
    for web, url in (
        (staff_web, f"{admin}/print"),
        (client_web, f"/invoices/{invoice.id}/print"),
    ):
        page = web.get(url)
        assert page.status_code == 200 and "17 640,00" in page.get_data(as_text=True)
    # the e-mail queued at issue is delivered with its PDF
    assert deliver_outbox(limit=10).sent == 1
    letter = mailbox[0]
    body = letter.get_body(("plain",)).get_content().replace("\xa0", " ")
    assert "на сумму 17 640,00" in body and "В том числе НДС: 3 180,98" in body
    attached = next(p for p in letter.iter_attachments() if p.get_content_type().endswith("pdf"))
    assert "Итого без НДС: 14 459,02" in pdf_text(attached.get_content())
    # the invoice pages show the same figures
    for web, url in ((staff_web, admin), (client_web, f"/invoices/{invoice.id}")):
        page = re.sub(r"[\s,.]", "", web.get(url).get_data(as_text=True))  # any language
        for figure in ("1445902", "318098", "1764000", "245902", "54098", "264000", "1464000"):
            assert figure in page, (url, figure)
    # paid: the act prints in both areas with the same figures
    payments.record_payment(
        client_account,
        amount=D("17640.00"),
        method="bank",
        reference="п/п 5",
        payment_date=invoice.issue_date,
        invoices=[invoice],
    )
    for web, url in (
        (staff_web, f"{admin}/act.pdf"),
        (client_web, f"/documents/{invoice.id}/act.pdf"),
    ):
        response = web.get(url)
        assert response.status_code == 200, url
        act = pdf_text(response.data)
        assert "Итого без НДС: 14 459,02" in act and "Всего (с учётом НДС): 17 640,00" in act


def test_the_invoices_csv_has_net_vat_and_gross(staff_web, client_account) -> None:
    invoice = _mixed_invoice(staff_web, client_account)
    csv = staff_web.get("/admin/billing/invoices?format=csv").get_data(as_text=True)
    header, row = csv.splitlines()[:2]
    assert "Без НДС" in header or "Net" in header
    assert invoice.number in row and "14459,02;3180,98;17640,00;0,00;" in row


def test_a_paid_invoice_states_its_sum_and_how_it_was_paid(
    app: Flask, staff_web, client_web, client_account
) -> None:
    """Paid from credit: "Ноль рублей" and "Сумма 0,00 руб., в т.ч. НДС" were printed."""
    line = billing.charge_line(
        "Хостинг", D("1014.75"), "RUB", line_tax=billing.LineTax(D(22), inclusive=True)
    )
    draft = invoices.create_draft(client_account, [(line, None)])
    db.session.commit()
    invoice = invoices.issue_invoice(draft, today=invoice_day(app))
    payments.add_credit(client_account, D("2000.00"), payments.CreditReason.MANUAL)
    db.session.commit()
    payments.apply_credit(invoice)
    db.session.refresh(invoice)
    assert invoice.status is InvoiceStatus.PAID
    for web, url in (
        (staff_web, f"/admin/billing/invoices/{invoice.id}/pdf"),
        (client_web, f"/invoices/{invoice.id}/pdf"),
    ):
        text = pdf_text(web.get(url).data)
        assert "Одна тысяча четырнадцать рублей 75 копеек" in text
        assert "Ноль рублей" not in text
        assert "на сумму 1 014,75 руб., к оплате 0,00 руб." in text
        assert "Зачтено из кредитного баланса: 1 014,75" in text
        assert "В том числе НДС 22 %: 182,99" in text
        assert "Счёт оплачен" in text
        assert "Оплатить не позднее" not in text and "Сумма 0,00" not in text


def invoice_day(app: Flask):
    from portal.core.clock import today

    return today()


def test_a_credit_note_prints_as_a_correction(
    app: Flask, staff_web, client_web, client_account, mailbox
):
    """It printed as a payment request for −1 220,00 ("Минус одна тысяча...")."""
    line = billing.charge_line("Хостинг", D("5000.00"), "RUB", line_tax=billing.LineTax(D(22)))
    draft = invoices.create_draft(client_account, [(line, None)])
    db.session.commit()
    invoice = invoices.issue_invoice(draft, today=invoice_day(app))
    note = credit_notes.issue_credit_note(
        invoice, D("1220.00"), "перерасчёт", today=invoice_day(app)
    )
    db.session.commit()
    assert note.kind is InvoiceKind.CREDIT_NOTE and note.corrects_id == invoice.id
    for status in (note.status, InvoiceStatus.UNPAID):  # whatever status the service gives it
        note.status = status
        db.session.commit()
        for web, url in (
            (staff_web, f"/admin/billing/invoices/{note.id}/pdf"),
            (client_web, f"/invoices/{note.id}/pdf"),
        ):
            response = web.get(url)
            # a Cyrillic number in a header gunicorn refuses (latin-1 only) answered 500
            disposition = response.headers["Content-Disposition"]
            assert disposition.isascii() and "filename*=UTF-8''" in disposition
            text = pdf_text(response.data)
            assert f"Корректировочный счёт № {note.number}" in text
            assert f"К счёту на оплату № {invoice.number} от" in text
            assert "Сумма корректировки: 1 220,00" in text
            assert "Одна тысяча двести двадцать рублей 00 копеек" in text
            for wrong in ("Минус", "-1 220", "Оплатить не позднее", "Назначение платежа", "БИК"):
                assert wrong not in text, wrong
        english = pdf_text(staff_web.get(f"/admin/billing/invoices/{note.id}/pdf?lang=en").data)
        assert f"Credit note No. {note.number}" in english
        page = client_web.get(f"/invoices/{note.id}/print").get_data(as_text=True)
        assert "Корректировочный счёт" in page and "Оплатить" not in page
    assert staff_web.get(f"/admin/billing/invoices/{note.id}/act.pdf").status_code == 404
    # sent by e-mail: a correction, not a request to pay
    client_account.language = "ru"
    db.session.commit()
    url = f"/admin/billing/invoices/{note.id}"
    staff_web.submit(f"{url}/send", {}, form_page=url)
    assert deliver_outbox(limit=10).sent == 1
    body = mailbox[0].get_body(("plain",)).get_content().replace("\xa0", " ")
    assert "корректировочный счёт" in body and "1 220,00" in body and "оплатите" not in body
    attached = next(
        p for p in mailbox[0].iter_attachments() if p.get_content_type().endswith("pdf")
    )
    assert "Сумма корректировки: 1 220,00" in pdf_text(attached.get_content())


def test_an_empty_vat_on_a_manual_line_is_the_clients_rate(staff_web, client_account) -> None:
    invoice_id = _draft(staff_web, client_account)
    _add(staff_web, invoice_id, description="Работы", unit_price="1000.00")
    _add(staff_web, invoice_id, description="Работы с НДС", unit_price="1220.00", tax_inclusive="y")
    _add(staff_web, invoice_id, description="Госпошлина", unit_price="500.00", tax_mode="none")
    _add(
        staff_web,
        invoice_id,
        description="Экспорт",
        unit_price="10.00",
        tax_mode="rate",
        tax_percent="10",
    )
    lines = db.session.get(Invoice, int(invoice_id)).lines
    assert [(line.tax_percent, line.tax_inclusive, line.tax) for line in lines] == [
        (D(22), False, D("220.00")),
        (D(22), True, D("220.00")),
        (None, False, D("0.00")),
        (D(10), False, D("1.00")),
    ]
    page = staff_web.get(f"/admin/billing/invoices/{invoice_id}").get_data(as_text=True)
    assert 'id="tax-mode-hint"' in page
    # a rate without «This rate», or «This rate» without a rate, is explained, nothing added
    url = f"/admin/billing/invoices/{invoice_id}"
    for wrong in ({"tax_mode": "none", "tax_percent": "22"}, {"tax_mode": "rate"}):
        staff_web.submit(
            f"{url}/lines",
            {"description": "X", "quantity": "1", "unit_price": "1", **wrong},
            form_page=url,
        )
    assert len(db.session.get(Invoice, int(invoice_id)).lines) == 4


def test_a_tax_exempt_clients_manual_line_has_no_vat(staff_web, client_account) -> None:
    client_account.tax_exempt = True
    db.session.commit()
    invoice_id = _draft(staff_web, client_account)
    _add(staff_web, invoice_id, description="Работы", unit_price="1000.00")
    (line,) = db.session.get(Invoice, int(invoice_id)).lines
    assert (line.tax_percent, line.tax, line.total) == (None, D("0.00"), D("1000.00"))


def test_figures_on_the_page_are_never_raw(staff_web, client_account) -> None:
    invoice = _mixed_invoice(staff_web, client_account)
    page = staff_web.get(f"/admin/billing/invoices/{invoice.id}").get_data(as_text=True)
    table = page.split('id="invoice-lines"')[1].split("</table>")[0]
    assert not re.search(r"\d{4}\.\d{2}|\.\d{4}\b", table), table
