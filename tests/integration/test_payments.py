"""Payments: partial and final, overpayment to credit, credit applied, refunds, mass payment,
the same external reference twice."""

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import billing
from portal.core.extensions import db
from portal.invoicing import invoices, payments
from portal.invoicing.models import InvoiceKind, InvoiceStatus, Payment, PaymentKind

D = Decimal
TODAY = date(2026, 11, 2)


def _issued(client, amount: str, kind: InvoiceKind = InvoiceKind.INVOICE):
    draft = invoices.create_draft(
        client, [(billing.charge_line("Услуга", D(amount), "RUB"), None)], kind=kind
    )
    db.session.commit()
    return invoices.issue_invoice(draft, today=TODAY)


def _pay(client, amount: str, reference: str, *targets):
    return payments.record_payment(
        client,
        amount=D(amount),
        method="bank",
        reference=reference,
        payment_date=TODAY,
        invoices=list(targets),
    )


def test_partial_then_final_payment(app: Flask, client_account) -> None:
    invoice = _issued(client_account, "860.00")
    _pay(client_account, "500.00", "п/п 17", invoice)
    assert invoice.status is InvoiceStatus.PARTIALLY_PAID and invoice.balance == D("360.00")
    _pay(client_account, "360.00", "п/п 18", invoice)
    assert invoice.status is InvoiceStatus.PAID and invoice.paid_date == TODAY
    assert payments.credit_balance(client_account.id, "RUB") == D("0.00")


def test_overpayment_goes_to_credit_and_pays_the_next_invoice(app: Flask, client_account) -> None:
    first = _issued(client_account, "860.00")
    _pay(client_account, "1000.00", "п/п 20", first)
    assert first.status is InvoiceStatus.PAID
    assert payments.credit_balance(client_account.id, "RUB") == D("140.00")
    second = _issued(client_account, "100.00")
    assert payments.apply_credit(second) == D("100.00")
    assert second.status is InvoiceStatus.PAID
    assert payments.credit_balance(client_account.id, "RUB") == D("40.00")
    third = _issued(client_account, "100.00")
    assert payments.apply_credit(third) == D("40.00")
    assert third.status is InvoiceStatus.PARTIALLY_PAID
    with pytest.raises(payments.PaymentError, match="no credit balance"):
        payments.apply_credit(third)


def test_the_same_reference_twice_records_one_payment(app: Flask, client_account) -> None:
    invoice = _issued(client_account, "860.00")
    first = _pay(client_account, "860.00", "88#72815", invoice)
    again = _pay(client_account, "860.00", "88#72815")
    assert again.id == first.id
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    assert payments.credit_balance(client_account.id, "RUB") == D("0.00")


def test_mass_payment_settles_several_invoices_in_order(app: Flask, client_account) -> None:
    a, b, c = (_issued(client_account, amount) for amount in ("100.00", "200.00", "300.00"))
    _pay(client_account, "450.00", "п/п 30", a, b, c)
    assert (a.status, b.status, c.status) == (
        InvoiceStatus.PAID,
        InvoiceStatus.PAID,
        InvoiceStatus.PARTIALLY_PAID,
    )
    assert c.balance == D("150.00")


def test_refund_to_credit_and_paid_out(app: Flask, client_account) -> None:
    invoice = _issued(client_account, "500.00")
    payment = _pay(client_account, "500.00", "п/п 40", invoice)
    payments.refund(payment, D("200.00"), to_credit=True)
    assert invoice.status is InvoiceStatus.PARTIALLY_PAID
    assert payments.credit_balance(client_account.id, "RUB") == D("200.00")
    payments.refund(payment, D("300.00"), to_credit=False)
    assert invoice.status is InvoiceStatus.REFUNDED and invoice.amount_paid == D("0.00")
    paid_out = db.session.scalar(select(Payment).where(Payment.kind == PaymentKind.REFUND))
    assert paid_out.amount == D("-300.00") and paid_out.refund_of_id == payment.id
    with pytest.raises(payments.PaymentError, match="at most what is left"):
        payments.refund(payment, D("0.01"), to_credit=True)


def test_add_funds_invoice_tops_up_the_credit(app: Flask, client_account) -> None:
    top_up = _issued(client_account, "5000.00", InvoiceKind.ADD_FUNDS)
    _pay(client_account, "5000.00", "п/п 50", top_up)
    assert payments.credit_balance(client_account.id, "RUB") == D("5000.00")


def test_wrong_payments_are_refused_with_reasons(app: Flask, client_account, clock) -> None:
    from portal.testing.factories import make_client

    other = make_client(clock)
    invoice = _issued(client_account, "100.00")
    with pytest.raises(payments.PaymentError, match="belongs to another client"):
        _pay(other, "100.00", "x1", invoice)
    with pytest.raises(payments.PaymentError, match="more than zero"):
        _pay(client_account, "0", "x2", invoice)
    with pytest.raises(payments.PaymentError, match="needs the reference"):
        _pay(client_account, "1.00", "  ", invoice)
    with pytest.raises(billing.BillingError):
        _pay(client_account, "1.001", "x3", invoice)
    with pytest.raises(billing.FloatNotAllowed):
        payments.record_payment(
            client_account, amount=0.1, method="bank", reference="x4", payment_date=TODAY
        )  # type: ignore[arg-type]
    _pay(client_account, "100.00", "x5", invoice)
    with pytest.raises(payments.PaymentError, match="not awaiting payment"):
        _pay(client_account, "100.00", "x6", invoice)
