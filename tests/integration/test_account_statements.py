"""Statement of account: top-ups are advances, credit notes and credit movements count, refunds
move the balance back, and the closing balance is the client's real position, for any sequence
of operations (a property test)."""

import itertools
import os
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal import billing
from portal.core.clock import today
from portal.core.extensions import db
from portal.invoicing import credit_notes, invoices, payments
from portal.invoicing.account_statements import (
    MovementKind,
    client_position,
    statement,
)
from portal.invoicing.models import (
    CreditNoteSettlement,
    CreditReason,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentKind,
)
from portal.invoicing.money_check import check_money
from portal.testing.factories import make_client

D = Decimal
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
_references = itertools.count(1)


def _issued(client, amount: str, day: date | None = None) -> Invoice:
    draft = invoices.create_draft(client, [(billing.charge_line("Услуга", D(amount), "RUB"), None)])
    db.session.commit()
    return invoices.issue_invoice(draft, today=day or today())


def _pay(client, amount: str, *targets: Invoice, day: date | None = None) -> Payment:
    return payments.record_payment(
        client,
        amount=D(amount),
        method="bank",
        reference=f"п/п {next(_references)}",
        payment_date=day or today(),
        invoices=list(targets),
    )


def _closing(client) -> Decimal:
    return statement(client, *YEAR).closing


def test_a_paid_top_up_is_an_advance_not_a_charge(app: Flask, client_account) -> None:
    top_up = invoices.issue_top_up(client_account, D("2000.00"))
    _pay(client_account, "2000.00", top_up)
    service = _issued(client_account, "2000.00")
    payments.apply_credit(service)
    result = statement(client_account, *YEAR)
    assert result.closing == D("0.00") == client_position(client_account.id, "RUB")
    assert [row.kind for row in result.rows] == [MovementKind.INVOICE, MovementKind.PAYMENT]
    assert all(row.document != top_up.number for row in result.rows)


def test_downgrade_credit_and_an_unpaid_invoice(app: Flask, client_account) -> None:
    """The issue's case: the client owed 500 and held 5 791,66 credit; the statement said
    2 500,00 (it ignored the credit)."""
    top_up = invoices.issue_top_up(client_account, D("2000.00"))
    _pay(client_account, "2000.00", top_up)
    payments.apply_credit(_issued(client_account, "2000.00"))
    payments.add_credit(client_account, D("5791.66"), CreditReason.DOWNGRADE, description="Тариф")
    db.session.commit()
    _issued(client_account, "500.00")
    result = statement(client_account, *YEAR)
    assert result.closing == D("-5291.66") == client_position(client_account.id, "RUB")
    credit = next(row for row in result.rows if row.kind is MovementKind.CREDIT)
    assert credit.credit == D("5791.66") and credit.reason is CreditReason.DOWNGRADE


def test_credit_note_counts_once(app: Flask, client_account) -> None:
    invoice = _issued(client_account, "1220.00")
    _pay(client_account, "1220.00", invoice)
    note = credit_notes.issue_credit_note(invoice, D("1220.00"), "Ошибка в тарифе", today=today())
    result = statement(client_account, *YEAR)
    assert result.closing == D("-1220.00") == client_position(client_account.id, "RUB")
    notes = [row for row in result.rows if row.kind is MovementKind.CREDIT_NOTE]
    assert [(row.document, row.credit) for row in notes] == [(note.number, D("1220.00"))]
    assert not any(row.kind is MovementKind.CREDIT for row in result.rows)


def _note_for(client, invoice: Invoice, amount: str) -> Invoice:
    """A credit note in the shape credit notes are moving to: the note is settled by entries
    linked to the note itself."""
    line = invoices.discount_line("Корректировка", D(amount), "RUB")
    note = invoices.create_draft(client, [(line, None)], kind=InvoiceKind.CREDIT_NOTE)
    note.corrects_id = invoice.id
    db.session.commit()
    return invoices.issue_invoice(note, today=today(), due_days=0)


def test_credit_note_settled_to_credit_or_paid_out(app: Flask, client_account, clock) -> None:
    invoice = _issued(client_account, "3000.00")
    _pay(client_account, "3000.00", invoice)
    to_credit = _note_for(client_account, invoice, "1000.00")
    payments.add_credit(
        client_account, D("1000.00"), CreditReason.CORRECTION, invoice_id=to_credit.id
    )
    _note_for(client_account, invoice, "500.00")
    db.session.add(
        Payment(
            client_id=client_account.id,
            kind=PaymentKind.REFUND,
            method="bank",
            reference="возврат 1",
            payment_date=today(),
            currency="RUB",
            amount=D("-500.00"),
            created_at=clock.now(),
        )
    )
    db.session.commit()
    result = statement(client_account, *YEAR)
    assert result.closing == D("-1000.00") == client_position(client_account.id, "RUB")
    assert result.debit == D("3500.00") and result.credit == D("4500.00")


def test_legacy_correction_without_a_note_is_a_movement(app: Flask, client_account) -> None:
    payments.add_credit(client_account, D("300.00"), CreditReason.CORRECTION, description="Сверка")
    db.session.commit()
    result = statement(client_account, *YEAR)
    assert result.closing == D("-300.00") == client_position(client_account.id, "RUB")


def test_refund_paid_out_of_a_paid_invoice(app: Flask, client_account, clock) -> None:
    invoice = _issued(client_account, "1000.00")
    payment = _pay(client_account, "1500.00", invoice)
    clock.advance(timedelta(days=3))
    payments.refund(payment, D("1500.00"), to_credit=False, reference="возврат 7")
    assert invoice.status is InvoiceStatus.REFUNDED
    result = statement(client_account, *YEAR)
    assert result.closing == D("0.00") == client_position(client_account.id, "RUB")
    kinds = [row.kind for row in result.rows]
    assert kinds == [
        MovementKind.INVOICE,
        MovementKind.PAYMENT,
        MovementKind.INVOICE_REFUNDED,
        MovementKind.REFUND,
    ]
    assert result.rows[-1].debit == D("1500.00") and result.rows[-1].day == date(2026, 11, 5)


def test_refunding_an_overpayment_to_credit_does_not_double_it(app: Flask, client_account) -> None:
    invoice = _issued(client_account, "1000.00")
    payment = _pay(client_account, "1500.00", invoice)  # 500 of it went to credit
    payments.refund(payment, D("1500.00"), to_credit=True)
    assert invoice.status is InvoiceStatus.REFUNDED
    assert payments.credit_balance(client_account.id, "RUB") == D("1500.00")
    assert _closing(client_account) == D("-1500.00") == client_position(client_account.id, "RUB")


def test_refunding_a_top_up_takes_the_credit_back(app: Flask, client_account) -> None:
    top_up = invoices.issue_top_up(client_account, D("1000.00"))
    payment = _pay(client_account, "1000.00", top_up)
    payments.refund(payment, D("1000.00"), to_credit=False)
    assert payments.credit_balance(client_account.id, "RUB") == D("0.00")
    assert _closing(client_account) == D("0.00") == client_position(client_account.id, "RUB")


def test_credit_cannot_pay_a_top_up(app: Flask, client_account) -> None:
    """Paying a top-up from credit would burn the credit: the top-up credits only money."""
    payments.grant_credit(client_account, D("500.00"), description="Компенсация")
    top_up = invoices.issue_top_up(client_account, D("500.00"))
    with pytest.raises(payments.PaymentError, match="add-funds"):
        payments.apply_credit(top_up)
    assert payments.credit_balance(client_account.id, "RUB") == D("500.00")


def test_opening_balance_and_date_range(app: Flask, client_account) -> None:
    _issued(client_account, "700.00", day=date(2026, 3, 10))
    _pay(client_account, "200.00", day=date(2026, 4, 1))
    _issued(client_account, "100.00", day=date(2026, 5, 5))
    result = statement(client_account, date(2026, 4, 1), date(2026, 4, 30))
    assert result.opening == D("700.00")
    assert [(row.day, row.credit, row.balance) for row in result.rows] == [
        (date(2026, 4, 1), D("200.00"), D("500.00"))
    ]
    assert result.closing == D("500.00")


def test_other_clients_and_drafts_and_cancelled_are_left_out(
    app: Flask, client_account, clock
) -> None:
    other = make_client(clock)
    _issued(other, "999.00")
    invoices.create_draft(client_account, [(billing.charge_line("X", D("5.00"), "RUB"), None)])
    db.session.commit()
    invoices.cancel_invoice(_issued(client_account, "50.00"))
    assert statement(client_account, *YEAR).rows == ()


# --- the property test ---------------------------------------------------------------------

AMOUNTS = st.decimals(min_value=D("1.00"), max_value=D("5000.00"), places=2)
OPERATIONS = st.sampled_from(
    (
        "issue",
        "issue",
        "pay",
        "pay",
        "overpay",
        "top_up",
        "apply_credit",
        "downgrade",
        "manual",
        "credit_note",
        "refund_to_credit",
        "refund_paid_out",
        "cancel",
        "next_day",
    )
)


def _payable(client) -> list[Invoice]:
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.client_id == client.id, Invoice.status.in_(payments.PAYABLE))
            .order_by(Invoice.id)
        )
    )


def _operate(data, client, clock, operation: str) -> None:
    amount = data.draw(AMOUNTS)
    payable = _payable(client)
    if operation == "issue":
        _issued(client, str(amount))
    elif operation in ("pay", "overpay") and payable:
        invoice = data.draw(st.sampled_from(payable))
        share = invoice.balance + amount if operation == "overpay" else min(amount, invoice.balance)
        _pay(client, str(share), invoice)
    elif operation == "top_up":
        top_up = invoices.issue_top_up(client, amount)
        if data.draw(st.booleans()):
            _pay(client, str(amount), top_up)
    elif operation == "apply_credit":
        services = [i for i in payable if i.kind is InvoiceKind.INVOICE]  # not a top-up
        if services and payments.credit_balance(client.id, "RUB") > 0:
            payments.apply_credit(data.draw(st.sampled_from(services)))
    elif operation == "downgrade":
        payments.add_credit(client, amount, CreditReason.DOWNGRADE)
        db.session.commit()
    elif operation == "manual":
        payments.grant_credit(client, amount, description="Компенсация")
    elif operation == "credit_note":
        issued = db.session.scalars(
            select(Invoice)
            .where(
                Invoice.client_id == client.id,
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.status.not_in((InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED)),
            )
            .order_by(Invoice.id)
        ).all()
        if issued:
            invoice = data.draw(st.sampled_from(issued))
            limits = credit_notes.correctable(invoice)
            how = data.draw(st.sampled_from(list(CreditNoteSettlement)))
            bound = {
                CreditNoteSettlement.CREDIT: limits.left,
                CreditNoteSettlement.REFUND: limits.refundable,
                CreditNoteSettlement.INVOICE: limits.owed,
            }[how]
            if bound > 0:
                credit_notes.issue_credit_note(
                    invoice,
                    min(amount, bound),
                    "Перерасчёт",
                    today=today(),
                    settlement=how,
                    refund_reference=f"возврат по корректировке {invoice.id}-{limits.left}",
                )
    elif operation.startswith("refund"):
        paid = db.session.scalars(
            select(Payment)
            .where(
                Payment.client_id == client.id,
                Payment.kind == PaymentKind.PAYMENT,
                Payment.amount > Payment.refunded,
            )
            .order_by(Payment.id)
        ).all()
        if paid:
            payment = data.draw(st.sampled_from(paid))
            left = payment.amount - payment.refunded
            payments.refund(
                payment,
                min(amount, left),
                to_credit=operation == "refund_to_credit",
                reference=f"возврат {next(_references)}",
            )
    elif operation == "cancel":
        unpaid = [i for i in payable if i.status is InvoiceStatus.UNPAID]
        if unpaid:
            invoices.cancel_invoice(data.draw(st.sampled_from(unpaid)))
    elif operation == "next_day":
        clock.advance(timedelta(days=data.draw(st.integers(1, 40))))


@settings(
    max_examples=int(os.environ.get("STATEMENT_EXAMPLES", "40")),  # more for a long hunt
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), operations=st.lists(OPERATIONS, min_size=1, max_size=14))
def test_closing_balance_is_the_real_position(app: Flask, clock, data, operations) -> None:
    clock.set(clock.now().replace(year=2026, month=1, day=5))
    client = make_client(clock)
    for operation in operations:
        _operate(data, client, clock, operation)
    end = today()
    whole = statement(client, date(2026, 1, 1), end)
    assert whole.opening == D("0.00")
    assert whole.closing == client_position(client.id, "RUB")
    assert whole.closing == whole.opening + whole.debit - whole.credit
    assert whole.rows == tuple(sorted(whole.rows, key=lambda row: row.day))
    split = date(2026, 1, 1) + timedelta(
        days=data.draw(st.integers(0, (end - date(2026, 1, 1)).days))
    )
    later = statement(client, split, end)
    assert later.closing == whole.closing
    # every paid amount and status agrees with its payments and credit (issue #14)
    assert check_money().clean, check_money().lines()
    if split > date(2026, 1, 1):
        assert (
            later.opening == statement(client, date(2026, 1, 1), split - timedelta(days=1)).closing
        )
