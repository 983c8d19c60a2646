"""Credit notes as Russian offices use them: own series, VAT like the corrected lines, never
payable, settled as staff choose (credit, refund, or off what the invoice owes)."""

import random
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from portal import billing
from portal.accounts.models import AuditEntry
from portal.core.extensions import db
from portal.invoicing import credit_notes, invoices, payments
from portal.invoicing.account_statements import statement
from portal.invoicing.models import (
    CreditEntry,
    CreditNoteSettlement,
    CreditReason,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentKind,
)
from portal.platform import runtime_settings

D = Decimal
TODAY = date(2026, 11, 2)
VAT22 = billing.LineTax(D("22"), inclusive=False)
VAT22_IN = billing.LineTax(D("22"), inclusive=True)


def _issued(client, *lines: billing.InvoiceLine) -> Invoice:
    draft = invoices.create_draft(client, [(line, None) for line in lines])
    db.session.commit()
    return invoices.issue_invoice(draft, today=TODAY)


def _hosting(amount: str = "10000.00", tax: billing.LineTax = VAT22) -> billing.InvoiceLine:
    return billing.charge_line("Хостинг «Бизнес»", D(amount), "RUB", line_tax=tax)


def _note(invoice: Invoice, amount: str, **kwargs) -> Invoice:
    return credit_notes.issue_credit_note(
        invoice, D(amount), kwargs.pop("reason", "перерасчёт"), today=TODAY, **kwargs
    )


def test_a_correction_of_1220_on_a_22_percent_invoice(app: Flask, client_account) -> None:
    invoice = _issued(client_account, _hosting())  # 10 000 + 22 % = 12 200
    assert invoice.total == D("12200.00") and invoice.number == "2026-000001"
    note = _note(invoice, "1220.00")
    assert note.kind is InvoiceKind.CREDIT_NOTE and note.corrects_id == invoice.id
    assert (note.subtotal, note.tax, note.total) == (D("-1000.00"), D("-220.00"), D("-1220.00"))
    assert [line.tax_percent for line in note.lines] == [D("22")]
    assert note.status is InvoiceStatus.ISSUED and note.amount_paid == 0
    assert note.paid_date is None
    assert (note.series, note.number) == ("CN-2026", "К-2026-000001")
    assert note.notes == "перерасчёт"
    # the ordinary series lost no number to it
    assert _issued(client_account, _hosting("1.00")).number == "2026-000002"
    assert _note(invoice, "122.00").number == "К-2026-000002"
    # left as credit by default: a correction entry naming the note
    entry = db.session.scalars(select(CreditEntry).order_by(CreditEntry.id)).first()
    assert (entry.reason, entry.amount, entry.invoice_id) == (
        CreditReason.CORRECTION,
        D("1220.00"),
        note.id,
    )
    assert payments.credit_balance(client_account.id, "RUB") == D("1342.00")
    assert invoice.status is InvoiceStatus.UNPAID and invoice.amount_paid == 0
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert "invoice.credit_note" in actions


def test_the_number_format_is_a_setting(app: Flask, client_account) -> None:
    runtime_settings.put("credit_note_number_format", "КС/{number}/{year}")
    db.session.commit()
    invoice = _issued(client_account, _hosting())
    assert _note(invoice, "100.00").number == "КС/1/2026"


def test_a_full_correction_mirrors_every_line(app: Flask, client_account) -> None:
    lines = (
        billing.charge_line("Доступ «Стандарт»", D("4560.00"), "RUB", quantity=5, line_tax=VAT22),
        billing.charge_line("Лицензия 1С", D("12825.00"), "RUB", line_tax=VAT22_IN),
        invoices.discount_line("Промо-код: 5 %", D("669.00"), "RUB", VAT22),
        billing.charge_line("Без НДС", D("99.99"), "RUB"),
    )
    invoice = _issued(client_account, *lines)
    note = _note(invoice, str(invoice.total))
    assert (note.subtotal, note.tax, note.total) == (
        -invoice.subtotal,
        -invoice.tax,
        -invoice.total,
    )
    for original, corrected in zip(invoice.lines, note.lines, strict=True):
        for name in ("quantity", "tax_percent", "tax_inclusive", "description"):
            assert getattr(corrected, name) == getattr(original, name)
        for name in ("unit_price", "amount", "net", "tax", "total"):
            assert getattr(corrected, name) == -getattr(original, name), name
    with pytest.raises(credit_notes.CreditNoteError, match="left to correct"):
        _note(invoice, "0.01")


def test_partial_corrections_are_spread_and_add_up_to_the_invoice(
    app: Flask, client_account
) -> None:
    lines = (
        billing.charge_line("Доступ «Стандарт»", D("4560.00"), "RUB", quantity=5, line_tax=VAT22),
        billing.charge_line("Лицензия 1С", D("12825.00"), "RUB", line_tax=VAT22_IN),
        invoices.discount_line("Промо-код: 5 %", D("669.00"), "RUB", VAT22),
    )
    invoice = _issued(client_account, *lines)
    first = _note(invoice, "1000.00")
    second = _note(invoice, "2345.67")
    assert first.total == D("-1000.00") and second.total == D("-2345.67")
    for note in (first, second):
        assert note.tax == sum(line.tax for line in note.lines) < 0
        for line in note.lines:
            assert line.net + line.tax == line.total
            recomputed = -billing.apply_tax(-line.amount, _tax(line), "RUB").tax
            assert abs(line.tax - recomputed) <= D("0.01")  # a gross VAT on top cannot reach
    # the first correction split 1 000 in proportion to the lines' totals
    weights = [line.total for line in invoice.lines]
    shares = [-line.total for line in first.lines]
    assert sum(shares) == D("1000.00")
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - D("1000.00") * weight / invoice.total) <= D("0.01")
    left = credit_notes.correctable(invoice).left
    assert left == invoice.total - D("3345.67")
    with pytest.raises(credit_notes.CreditNoteError, match="left to correct"):
        _note(invoice, str(left + D("0.01")))
    last = _note(invoice, str(left))
    for position, original in enumerate(invoice.lines):
        for name in ("net", "tax", "total"):
            corrected = sum(getattr(n.lines[position], name) for n in (first, second, last))
            assert corrected == -getattr(original, name), name


def _tax(line) -> billing.LineTax:
    return billing.LineTax(line.tax_percent or D(0), inclusive=line.tax_inclusive)


def test_vat_of_random_corrections_is_the_vat_of_the_corrected_lines(
    app: Flask, client_account
) -> None:
    """Any amount on 22 % lines, VAT on top or included: net + VAT = total on each line, the
    note's total is the amount asked, and the VAT is the line's own rounding whenever a net
    exists for that gross (VAT on top cannot reach every kopeck: then net = gross − VAT)."""
    picker = random.Random(16)
    invoice = _issued(
        client_account, _hosting("98765.43"), _hosting("1234.56", VAT22_IN), _hosting("0.07")
    )
    limits = credit_notes.correctable(invoice)
    for _ in range(200):
        amount = D(picker.randint(1, 2_000_000)) / 100
        amount = min(amount, limits.left)
        lines = credit_notes.correction_lines(invoice, amount, [])
        assert -sum(line.total for line in lines) == amount
        for line in lines:
            assert line.net + line.tax == line.total
            recomputed = -billing.apply_tax(-line.amount, _tax(line), "RUB").tax
            assert abs(recomputed - line.tax) <= D("0.01")
            assert -line.tax <= -line.total * D("22") / D("122") + D("0.01")


def test_never_payable_never_owed(app: Flask, client_account) -> None:
    invoice = _issued(client_account, _hosting())
    note = _note(invoice, "1220.00")
    with pytest.raises(payments.PaymentError, match="not awaiting payment"):
        payments.record_payment(
            client_account,
            amount=D("1.00"),
            method="bank",
            reference="п/п 1",
            payment_date=TODAY,
            invoices=[note],
        )
    db.session.rollback()
    with pytest.raises(payments.PaymentError, match="not awaiting payment"):
        payments.apply_credit(note)
    assert not note.is_overdue(date(2027, 6, 1))
    assert invoices.overdue_count(date(2027, 6, 1)) == 1  # the invoice, not the note
    summary = invoices.client_invoice_summary(client_account.id, "RUB")
    counted = sum(count for count, _total in summary["by_status"].values())
    assert counted == 1 and InvoiceStatus.ISSUED not in summary["by_status"]
    with pytest.raises(invoices.InvoiceError, match="has credit notes"):
        invoices.cancel_invoice(invoice)
    with pytest.raises(credit_notes.CreditNoteError, match="Only an invoice"):
        _note(note, "1.00")
    # a statement: the invoice, less the note
    result = statement(client_account, date(2026, 1, 1), TODAY)
    assert result.closing == D("10980.00")


def test_taken_off_what_the_invoice_owes(app: Flask, client_account) -> None:
    invoice = _issued(client_account, _hosting())
    payments.record_payment(
        client_account,
        amount=D("5000.00"),
        method="bank",
        reference="п/п 5",
        payment_date=TODAY,
        invoices=[invoice],
    )
    with pytest.raises(credit_notes.CreditNoteError, match="only that much"):
        _note(invoice, "7200.01", settlement=CreditNoteSettlement.INVOICE)
    note = _note(invoice, "1220.00", settlement=CreditNoteSettlement.INVOICE)
    assert invoice.amount_paid == D("6220.00") and invoice.balance == D("5980.00")
    assert invoice.status is InvoiceStatus.PARTIALLY_PAID
    assert payments.credit_balance(client_account.id, "RUB") == 0  # nothing left as credit
    entries = db.session.scalars(select(CreditEntry).order_by(CreditEntry.id)).all()
    assert [(e.reason, e.amount, e.invoice_id) for e in entries] == [
        (CreditReason.CORRECTION, D("1220.00"), note.id),
        (CreditReason.APPLIED, D("-1220.00"), invoice.id),
    ]
    rest = _note(invoice, "5980.00", settlement=CreditNoteSettlement.INVOICE)
    assert invoice.status is InvoiceStatus.PAID and invoice.balance == 0
    assert rest.status is InvoiceStatus.ISSUED and rest.amount_paid == 0
    assert statement(client_account, date(2026, 1, 1), TODAY).closing == 0
    with pytest.raises(credit_notes.CreditNoteError, match="owes"):
        _note(invoice, "1.00", settlement=CreditNoteSettlement.INVOICE)


def test_refunded_to_the_client(app: Flask, client_account) -> None:
    invoice = _issued(client_account, _hosting())
    with pytest.raises(credit_notes.CreditNoteError, match="can be refunded"):
        _note(invoice, "1.00", settlement=CreditNoteSettlement.REFUND, refund_reference="в/1")
    payments.record_payment(
        client_account,
        amount=D("200.00"),
        method="bank",
        reference="п/п 6",
        payment_date=TODAY,
        invoices=[invoice],
    )
    with pytest.raises(credit_notes.CreditNoteError, match=r"paid RUB\xa0200\.00 on"):
        _note(invoice, "200.01", settlement=CreditNoteSettlement.REFUND, refund_reference="в/1")
    payments.record_payment(
        client_account,
        amount=D("12000.00"),
        method="bank",
        reference="п/п 7",
        payment_date=TODAY,
        invoices=[invoice],
    )
    with pytest.raises(credit_notes.CreditNoteError, match="reference"):
        _note(invoice, "1220.00", settlement=CreditNoteSettlement.REFUND)
    with pytest.raises(credit_notes.CreditNoteError, match="already recorded"):
        _note(invoice, "1220.00", settlement=CreditNoteSettlement.REFUND, refund_reference="п/п 7")
    note = _note(
        invoice, "1220.00", settlement=CreditNoteSettlement.REFUND, refund_reference="п/п 901"
    )
    refund = db.session.scalar(select(Payment).where(Payment.kind == PaymentKind.REFUND))
    assert (refund.amount, refund.reference, refund.method) == (D("-1220.00"), "п/п 901", "bank")
    assert refund.credit_note_id == note.id and note.number in refund.description
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid == D("12200.00")
    assert payments.credit_balance(client_account.id, "RUB") == 0
    assert db.session.scalar(select(CreditEntry.id)) is None
    # paid 12 200, corrected by 1 220 and 1 220 paid back: nobody owes anything
    assert statement(client_account, date(2026, 1, 1), TODAY).closing == 0
    assert credit_notes.correctable(invoice).refundable == D("10980.00")


def test_refusals(app: Flask, client_account) -> None:
    invoice = _issued(client_account, _hosting())
    with pytest.raises(credit_notes.CreditNoteError, match="more than zero"):
        _note(invoice, "0")
    with pytest.raises(credit_notes.CreditNoteError, match="why"):
        _note(invoice, "1.00", reason="  ")
    with pytest.raises(billing.BillingError):
        _note(invoice, "1.001")
    draft = invoices.create_draft(client_account, [(_hosting(), None)])
    db.session.commit()
    with pytest.raises(credit_notes.CreditNoteError, match="issued invoice"):
        _note(draft, "1.00")
    top_up = invoices.issue_top_up(client_account, D("500.00"))
    with pytest.raises(credit_notes.CreditNoteError, match="Only an invoice"):
        _note(top_up, "1.00")
    assert db.session.scalar(select(Invoice.id).where(Invoice.kind == "credit_note")) is None
