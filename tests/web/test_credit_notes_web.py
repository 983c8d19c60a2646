"""Credit notes on the admin invoice page and in the client area: the form with its settlement
choice and Russian refusals, the links both ways, notes never payable for the client, and no
draft (cancelled or not) ever shown to the client."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal import billing
from portal.core.extensions import db
from portal.invoicing import credit_notes, invoices, payments
from portal.invoicing.models import (
    CreditNoteSettlement,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentKind,
)
from portal.messaging.models.outbox import OutboundMessage
from portal.platform import runtime_settings
from portal.testing.factories import make_client

D = Decimal
TODAY = date(2026, 11, 2)
RUSSIAN = {"Accept-Language": "ru-RU,ru;q=0.9"}


def _issued(client, amount: str = "10000.00") -> Invoice:
    line = billing.charge_line(
        "Хостинг «Бизнес»", D(amount), "RUB", line_tax=billing.LineTax(D("22"))
    )
    draft = invoices.create_draft(client, [(line, None)])
    db.session.commit()
    return invoices.issue_invoice(draft, today=TODAY)


def test_staff_issue_a_refund_credit_note_from_the_invoice_page(staff_web, client_account) -> None:
    invoice = _issued(client_account)
    payments.record_payment(
        client_account,
        amount=D("12200.00"),
        method="bank",
        reference="п/п 1",
        payment_date=TODAY,
        invoices=[invoice],
    )
    url = f"/admin/billing/invoices/{invoice.id}"
    page = staff_web.get(url).get_data(as_text=True)
    assert 'id="credit-note-form"' in page and "Left to correct" in page
    # a refund without its payment order number is refused in Russian, nothing is issued
    refused = staff_web.submit(
        f"{url}/credit-note",
        {"amount": "1 220,00", "reason": "Перерасчёт", "settlement": "refund"},
        form_page=url,
        headers=RUSSIAN,
    )
    assert refused.status_code == 400
    assert "Для возврата нужен номер платёжного поручения." in refused.get_data(as_text=True)
    too_much = staff_web.submit(
        f"{url}/credit-note",
        {"amount": "12200,01", "reason": "Перерасчёт", "settlement": "credit"},
        form_page=url,
        headers=RUSSIAN,
    )
    assert "осталось скорректировать не больше 12\xa0200,00\xa0₽" in too_much.get_data(as_text=True)
    assert db.session.scalar(select(Invoice).where(Invoice.kind == "credit_note")) is None
    done = staff_web.submit(
        f"{url}/credit-note",
        {
            "amount": "1 220,00",
            "reason": "Перерасчёт за простой",
            "settlement": "refund",
            "refund_method": "bank",
            "refund_reference": "п/п 902",
        },
        form_page=url,
    )
    assert done.status_code == 302
    note = db.session.scalar(select(Invoice).where(Invoice.kind == InvoiceKind.CREDIT_NOTE))
    assert done.location.endswith(f"/admin/billing/invoices/{note.id}")
    assert (note.total, note.tax, note.number) == (D("-1220.00"), D("-220.00"), "К-2026-000001")
    assert note.settlement is CreditNoteSettlement.REFUND
    refund = db.session.scalar(select(Payment).where(Payment.kind == PaymentKind.REFUND))
    assert refund.reference == "п/п 902" and refund.amount == D("-1220.00")
    note_page = staff_web.get(done.location, headers=RUSSIAN).get_data(as_text=True)
    assert "Корректировочный счёт К-2026-000001" in note_page
    assert f'href="/admin/billing/invoices/{invoice.id}">{invoice.number}</a>' in note_page
    assert "п/п 902" in note_page and "Возвращено клиенту" in note_page
    assert 'id="invoice-balance"' not in note_page and "Record a payment" not in note_page
    original = staff_web.get(url).get_data(as_text=True)
    assert 'id="invoice-credit-notes"' in original and note.number in original
    assert f"/admin/billing/invoices/{note.id}" in original
    # sent by e-mail as the correction document it is, and still never payable
    sent = staff_web.submit(f"/admin/billing/invoices/{note.id}/send", {}, form_page=done.location)
    assert sent.status_code == 302 and db.session.scalar(
        select(Invoice.id).where(Invoice.status == InvoiceStatus.ISSUED)
    )
    letter = db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id.desc())).first()
    assert note.number in letter.subject + letter.text


def test_staff_take_a_credit_note_off_what_the_invoice_owes(staff_web, client_account) -> None:
    invoice = _issued(client_account)
    url = f"/admin/billing/invoices/{invoice.id}"
    staff_web.submit(
        f"{url}/credit-note",
        {"amount": "12200", "reason": "Отказ от услуги", "settlement": "invoice"},
        form_page=url,
    )
    db.session.refresh(invoice)
    assert invoice.status is InvoiceStatus.PAID and invoice.balance == 0
    assert payments.credit_balance(client_account.id, "RUB") == 0
    page = staff_web.get(url).get_data(as_text=True)
    assert 'id="credit-note-form"' not in page  # nothing left to correct


def test_the_credit_note_number_format_is_a_company_setting(staff_web) -> None:
    from tests.web.test_billing_admin import COMPANY

    wrong = staff_web.submit(
        "/admin/billing/settings", {**COMPANY, "credit_note_number_format": "К-{x}"}
    )
    assert "Use {year} and {number}" in wrong.get_data(as_text=True)
    assert runtime_settings.get("credit_note_number_format") is None
    saved = staff_web.submit(
        "/admin/billing/settings", {**COMPANY, "credit_note_number_format": "КС-{number}"}
    )
    assert saved.status_code == 302
    assert credit_notes.number_format() == "КС-{number}"


def test_the_client_sees_credit_notes_apart_and_never_to_pay(
    client_web, client_account, clock
) -> None:
    invoice = _issued(client_account)
    note = credit_notes.issue_credit_note(invoice, D("1220.00"), "Перерасчёт", today=TODAY)
    listing = client_web.get("/invoices", headers=RUSSIAN).get_data(as_text=True)
    invoices_table, notes_table = listing.split('id="credit-notes"')
    assert invoice.number in invoices_table and note.number not in invoices_table
    assert note.number in notes_table and invoice.number in notes_table
    assert "Корректировочные счета" in listing
    view = client_web.get(f"/invoices/{note.id}", headers=RUSSIAN).get_data(as_text=True)
    assert 'id="credit-note-of"' in view and invoice.number in view
    assert 'id="bank-transfer"' not in view and 'id="pay-from-credit"' not in view
    assert 'id="balance"' not in view
    for path in ("pdf", "print"):
        assert client_web.get(f"/invoices/{note.id}/{path}").status_code == 200
    original = client_web.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert 'id="invoice-credit-notes"' in original and note.number in original
    # a credit note is never paid from credit, even with credit to spare
    response = client_web.submit(
        f"/invoices/{note.id}/pay-from-credit", {}, form_page=f"/invoices/{invoice.id}"
    )
    assert response.status_code == 302
    assert db.session.get(Invoice, note.id).amount_paid == 0
    assert "not awaiting payment" in client_web.get("/").get_data(as_text=True)  # the flash
    dashboard = client_web.get("/").get_data(as_text=True)
    assert note.number not in dashboard.split('id="unpaid-invoices"')[1].split("</ul>")[0]
    assert note.number in dashboard.split('id="dashboard-documents"')[1]  # not owed, a document
    # another client sees none of it
    other = make_client(clock, email="other@example.ru")
    db.session.commit()
    stranger = client_web.application.test_client()
    stranger.sign_in_client(other.email)
    assert stranger.get(f"/invoices/{note.id}").status_code == 404
    assert note.number not in stranger.get("/invoices").get_data(as_text=True)


def test_a_cancelled_draft_never_reaches_the_client(client_web, client_account) -> None:
    draft = invoices.create_draft(
        client_account, [(billing.charge_line("Черновик", D("1.00"), "RUB"), None)]
    )
    db.session.commit()
    invoices.cancel_invoice(draft)
    assert draft.status is InvoiceStatus.CANCELLED and draft.number is None
    listing = client_web.get("/invoices").get_data(as_text=True)
    assert "None" not in listing and "Черновик" not in listing
    for path in ("", "/pdf", "/print"):
        assert client_web.get(f"/invoices/{draft.id}{path}").status_code == 404


def test_a_cancelled_invoice_never_reaches_the_client(client_web, client_account) -> None:
    """Issued, e-mailed, then cancelled by staff: the client owes nothing and no longer sees it."""
    invoice = _issued(client_account)
    shown = client_web.get("/invoices").get_data(as_text=True)
    assert invoice.number in shown
    invoices.cancel_invoice(invoice)
    assert invoice.number not in client_web.get("/invoices").get_data(as_text=True)
    for path in ("", "/pdf", "/print"):
        assert client_web.get(f"/invoices/{invoice.id}{path}").status_code == 404
