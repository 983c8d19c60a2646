"""Client-area billing: own invoices, PDF, pay from credit, add funds — and 404 on everything
of another client."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from portal import billing
from portal.core.extensions import db
from portal.invoicing import invoices, payments
from portal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from portal.testing.factories import make_client

TODAY = date(2026, 11, 2)


def _issued(client, amount: str = "860.00") -> Invoice:
    draft = invoices.create_draft(
        client, [(billing.charge_line("Диск 5 ГБ", Decimal(amount), "RUB"), None)]
    )
    db.session.commit()
    return invoices.issue_invoice(draft, today=TODAY)


def test_client_sees_own_invoices_and_pays_from_credit(client_web, client_account) -> None:
    invoice = _issued(client_account)
    draft = invoices.create_draft(
        client_account, [(billing.charge_line("Черновик", Decimal("1.00"), "RUB"), None)]
    )
    db.session.commit()
    page = client_web.get("/invoices").get_data(as_text=True)
    assert invoice.number in page and "Черновик" not in page
    assert client_web.get(f"/invoices/{draft.id}").status_code == 404
    pdf = client_web.get(f"/invoices/{invoice.id}/pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    view = client_web.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert 'id="bank-transfer"' in view and invoice.number in view
    assert 'id="pay-from-credit"' not in view  # no credit yet
    payments.add_credit(client_account, Decimal("1000.00"), payments.CreditReason.MANUAL)
    db.session.commit()
    client_web.submit(
        f"/invoices/{invoice.id}/pay-from-credit", {}, form_page=f"/invoices/{invoice.id}"
    )
    db.session.refresh(invoice)
    assert invoice.status is InvoiceStatus.PAID
    assert "140.00" in client_web.get("/transactions").get_data(as_text=True).replace(",", ".")


def test_add_funds_issues_a_top_up_invoice(client_web, client_account) -> None:
    bad = client_web.submit("/add-funds", {"amount": "12,345"})
    assert bad.status_code == 400 and "kopecks" in bad.get_data(as_text=True)
    small = client_web.submit("/add-funds", {"amount": "10"})
    assert small.status_code == 400 and "smallest top-up" in small.get_data(as_text=True)
    response = client_web.submit("/add-funds", {"amount": "5 000,50"})
    invoice = db.session.get(Invoice, int(response.location.rsplit("/", 1)[1]))
    assert invoice.kind is InvoiceKind.ADD_FUNDS and invoice.total == Decimal("5000.50")
    assert invoice.client_id == client_account.id and invoice.number


def test_a_top_up_at_half_past_one_on_new_years_night_in_moscow_belongs_to_the_new_year(
    client_web, client_account, clock
) -> None:
    """01:30 on 1 January in Moscow is still 31 December in UTC: the provider's business date,
    not the UTC date, dates and numbers what the client does then."""
    from portal.invoicing.models import Payment, PaymentKind

    earlier = _issued(client_account, "300.00")  # in 2026
    paid_by_transfer = payments.record_payment(
        client_account,
        amount=Decimal("500.00"),
        method="bank",
        reference="п/п 2026",
        payment_date=TODAY,
    )
    payments.add_credit(client_account, Decimal("300.00"), payments.CreditReason.MANUAL)
    db.session.commit()
    clock.set(datetime(2027, 1, 1, 1, 30, tzinfo=ZoneInfo("Europe/Moscow")))
    assert clock.now() == datetime(2026, 12, 31, 22, 30, tzinfo=UTC)

    response = client_web.submit("/add-funds", {"amount": "1000"})
    top_up = db.session.get(Invoice, int(response.location.rsplit("/", 1)[1]))
    assert top_up.kind is InvoiceKind.ADD_FUNDS
    assert (top_up.series, top_up.sequence, top_up.number) == ("2027", 1, "2027-000001")
    assert (top_up.issue_date, top_up.tax_date) == (date(2027, 1, 1), date(2027, 1, 1))
    assert top_up.due_date == date(2027, 1, 11)

    client_web.submit(
        f"/invoices/{earlier.id}/pay-from-credit", {}, form_page=f"/invoices/{earlier.id}"
    )
    db.session.refresh(earlier)
    assert (earlier.status, earlier.paid_date) == (InvoiceStatus.PAID, date(2027, 1, 1))
    payments.refund(paid_by_transfer, Decimal("100.00"), to_credit=False)
    db.session.commit()
    refund = db.session.scalars(select(Payment).where(Payment.kind == PaymentKind.REFUND)).one()
    assert refund.payment_date == date(2027, 1, 1)


@pytest.fixture
def other_invoice(app: Flask, clock) -> Invoice:
    return _issued(make_client(clock), "100.00")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/invoices/{id}"),
        ("get", "/invoices/{id}/pdf"),
        ("get", "/invoices/{id}/print"),
        ("post", "/invoices/{id}/pay-from-credit"),
        ("get", "/documents/{id}/act.pdf"),
    ],
)
def test_another_clients_invoice_is_404(
    client_web, client_account, other_invoice, method: str, path: str
) -> None:
    url = path.format(id=other_invoice.id)
    if method == "get":
        response = client_web.get(url)
    else:
        payments.add_credit(client_account, Decimal("1000.00"), payments.CreditReason.MANUAL)
        db.session.commit()
        response = client_web.submit(url, {}, form_page="/invoices")
    assert response.status_code == 404
    db.session.refresh(other_invoice)
    assert other_invoice.status is InvoiceStatus.UNPAID
    assert other_invoice.number not in client_web.get("/invoices").get_data(as_text=True)


def test_gateways_show_and_a_repeated_callback_pays_once(make_app, client_account) -> None:
    from sqlalchemy import func, select

    from portal.invoicing.models import Payment
    from tests.plugins import exerciser

    app = make_app(extra_plugins=(exerciser,))
    with app.app_context():
        invoice = _issued(client_account)
        web = app.test_client()
        web.sign_in_client(client_account.email)
        page = web.get(f"/invoices/{invoice.id}").get_data(as_text=True)
        assert f"Pay {invoice.number} with the exerciser" in page
        assert f'href="https://pay.example/{invoice.number}"' in page
        assert 'id="bank-transfer"' in page  # the built-in stays alongside
        data = {"invoice": invoice.id, "transaction": "tx-42", "amount": "860.00"}
        forged = web.post("/gateways/exerciser/callback", data=data)
        assert forged.status_code == 403
        for _ in range(2):
            ok = web.post(
                "/gateways/exerciser/callback", data=data, headers={"X-Exerciser-Secret": "s3cret"}
            )
            assert ok.get_data(as_text=True) == "OK"
        assert db.session.scalar(select(func.count(Payment.id))) == 1
        db.session.refresh(invoice)
        assert invoice.status is InvoiceStatus.PAID
        assert web.post("/gateways/nope/callback").status_code == 404


def test_acts_of_paid_invoices_are_in_documents(client_web, client_account) -> None:
    import io

    from pypdf import PdfReader

    period = billing.Period(date(2026, 11, 1), date(2026, 12, 1))
    draft = invoices.create_draft(
        client_account,
        [
            (
                billing.charge_line(
                    "Доступ на пользователя «Стандарт»", Decimal("800.00"), "RUB", period=period
                ),
                None,
            )
        ],
    )
    db.session.commit()
    invoice = invoices.issue_invoice(draft, today=TODAY)
    assert client_web.get(f"/documents/{invoice.id}/act.pdf").status_code == 404  # unpaid
    payments.record_payment(
        client_account,
        amount=Decimal("800.00"),
        method="bank",
        reference="п/п 9",
        payment_date=TODAY,
        invoices=[invoice],
    )
    assert invoice.number in client_web.get("/documents").get_data(as_text=True)
    pdf = client_web.get(f"/documents/{invoice.id}/act.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert f"Акт № {invoice.number}" in text and "30.11.2026" in text
    assert "Доступ на пользователя" in text


def test_dashboard_shows_what_to_pay_and_the_credit(client_web, client_account) -> None:
    invoice = _issued(client_account)
    page = client_web.get("/").get_data(as_text=True)
    box = page.split('id="unpaid-invoices"')[1].split("</ul>")[0]
    assert invoice.number in box and "860.00" in box.replace(",", ".")
