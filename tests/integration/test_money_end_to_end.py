"""Money right end to end, as an accountant lives it (issue #16), on each database.

A client with INN/KPP orders 1С:Отель for half a year with the 5 % promo code; the invoice is
13 380 − 669 with 22 % VAT on top. Staff add an invoice with a line whose price includes VAT.
A bank statement pays the order in part, a second one pays the rest, the client downgrades (a
credit), the billing run renews and takes that credit, a credit note corrects the renewal, and
the statement of account and the акт сверки close on the client's real position. Every document
is rendered and read back.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from portal.catalog.models import Product, ProductGroup, ProductPrice
from portal.core.clock import today
from portal.core.extensions import db
from portal.invoicing import account_statements, bank_statements, credit_notes, invoices
from portal.invoicing import invoice_documents as documents
from portal.invoicing.billing_run import bill_due
from portal.invoicing.models import CreditNoteSettlement, Invoice, InvoiceStatus
from portal.invoicing.payments import credit_balance
from portal.orders import orders, service_changes
from portal.orders.models import Service
from portal.orders.orders import CartItem
from portal.orders.service_changes import ChangeRequest
from portal.platform import demo
from portal.testing.bank import incoming, onec_statement
from portal.testing.factories import make_client
from tests.web.test_invoice_documents import pdf_text

D = Decimal
INN, KPP = "7707083893", "773601001"
HOTEL = "1С:Отель 8. ПРОФ"


def at(clock, day: date) -> date:
    clock.set(datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC))  # 10:00 in Moscow
    return today()


def flat(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def import_statement(*orders: dict[str, str]) -> bank_statements.ImportReport:
    stored, _statement = bank_statements.store_statement(onec_statement(*orders), "выписка.txt")
    return bank_statements.confirm(stored)


def test_an_accountants_half_year(app, clock) -> None:
    products = demo.load_demo_catalogue()
    hotel = Product(group=db.session.scalar(select(ProductGroup).limit(1)), name=HOTEL)
    hotel.prices.append(ProductPrice(currency="RUB", cycle="semi_annual", price=D("13380.00")))
    db.session.add(hotel)
    db.session.commit()
    users = products[demo.USERS_PRODUCT]

    # a company with INN/KPP orders for half a year with the referral promo code
    start = at(clock, date(2026, 2, 1))
    client = make_client(
        clock, company="ООО «Ромашка»", inn=INN, kpp=KPP, legal_type="legal_entity"
    )
    order = orders.place_order(
        client,
        [
            CartItem(hotel.id, "semi_annual", {}),
            CartItem(users.id, "semi_annual", {users.options[0].id: 6}),
        ],
        today=start,
        promo_code=demo.DEMO_PROMO[0],
    )
    orders.accept_order(order, today=start, send_email=False)
    (first,) = db.session.scalars(select(Invoice).where(Invoice.client_id == client.id))
    amounts = [(line.amount, line.tax_percent) for line in first.lines]
    assert (D("13380.00"), D("22")) in amounts and (D("-669.00"), D("22")) in amounts
    assert first.tax == sum(line.tax for line in first.lines) and first.tax > 0
    assert first.buyer["inn"] == INN and first.buyer["kpp"] == KPP
    text = flat(pdf_text(documents.invoice_pdf_bytes(first)))
    assert f"Счет на оплату № {first.number}" in text or f"Счёт на оплату № {first.number}" in text
    assert "13 380,00" in text and "-669,00" in text and INN in text

    # staff add an invoice with a line whose price includes VAT next to one that does not
    draft = invoices.open_draft(client)
    invoices.add_manual_line(draft, "Настройка обмена с банком", D("1000.00"))
    invoices.add_manual_line(draft, "Обучение бухгалтера", D("1220.00"), inclusive=True)
    manual = invoices.issue_invoice(draft, today=start)
    assert (manual.subtotal, manual.tax, manual.total) == (D("2000.00"), D("440.00"), D("2440.00"))
    text = flat(pdf_text(documents.invoice_pdf_bytes(manual)))
    assert "2 440,00" in text and "440,00" in text and "Обучение бухгалтера" in text

    # the bank pays the order in part, then the rest; the same file again changes nothing
    at(clock, date(2026, 2, 3))
    part = import_statement(incoming("555", "20000.00", f"Оплата по счету № {first.number}", INN))
    assert len(part.recorded) == 1
    db.session.refresh(first)
    assert (first.status, first.amount_paid) == (InvoiceStatus.PARTIALLY_PAID, D("20000.00"))
    again = import_statement(incoming("555", "20000.00", f"Оплата по счету № {first.number}", INN))
    assert (len(again.recorded), len(again.already)) == (0, 1)
    rest = first.total - D("20000.00")
    purpose = f"Доплата по сч. № {first.number}"
    import_statement(incoming("556", f"{rest}", purpose, INN), incoming("557", "2440.00", "", INN))
    db.session.expire_all()
    assert db.session.get(Invoice, first.id).status is InvoiceStatus.PAID
    assert db.session.get(Invoice, manual.id).status is InvoiceStatus.PAID  # by INN + amount
    act = flat(pdf_text(documents.act_pdf_bytes(db.session.get(Invoice, first.id))))
    assert HOTEL in act and "13 380,00" in act and INN in act

    # a downgrade from 6 users to 5 leaves credit; the renewal takes it
    at(clock, date(2026, 3, 4))
    service = db.session.scalar(select(Service).where(Service.product_id == users.id))
    option = users.options[0].id
    service_changes.confirm(service, ChangeRequest(options={option: 5}), today=today())
    credit = credit_balance(client.id, "RUB")
    assert credit > 0 and credit == credit.quantize(D("0.01"))

    bill_due(at(clock, date(2026, 7, 25)))
    renewal = db.session.scalar(
        select(Invoice)
        .where(Invoice.client_id == client.id, Invoice.issue_date == date(2026, 7, 25))
        .order_by(Invoice.id.desc())
    )
    assert renewal.amount_paid == credit and renewal.balance == renewal.total - credit
    assert credit_balance(client.id, "RUB") == D("0.00")
    text = flat(pdf_text(documents.invoice_pdf_bytes(renewal)))
    assert flat(billing_money(credit)) in text and flat(billing_money(renewal.balance)) in text

    # a credit note corrects the renewal: off what it still owes, never payable itself
    note = credit_notes.issue_credit_note(
        renewal,
        D("1220.00"),
        "Пользователь отключён до начала периода",
        today=today(),
        settlement=CreditNoteSettlement.INVOICE,
    )
    assert note.status is InvoiceStatus.ISSUED and note.total == D("-1220.00")
    assert note.tax == D("-220.00")
    text = flat(pdf_text(documents.invoice_pdf_bytes(note)))
    assert f"Корректировочный счёт № {note.number}" in text and "Оплатить" not in text

    # the statement and the акт сверки close on what the client really owes
    position = account_statements.client_position(client.id, "RUB")
    assert position == db.session.get(Invoice, renewal.id).balance
    year = (date(2026, 1, 1), date(2026, 12, 31))
    result = account_statements.statement(client, *year)
    assert result.opening == D("0.00") and result.closing == position
    assert result.debit - result.credit == position
    recon = flat(pdf_text(account_statements.reconciliation_pdf_bytes(client, *year)))
    assert "Сальдо конечное" in recon and flat(billing_money(position)) in recon
    assert INN in recon and "ООО «Ромашка»" in recon


def billing_money(amount: Decimal) -> str:
    """An amount as Russian documents print it: ``20 022,10``."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",")
