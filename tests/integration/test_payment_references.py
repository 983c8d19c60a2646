"""One bank payment is one payment however it arrives (docs/invoices-and-payments.md, "Payment
references"): staff type payment order 701, the statement then brings "п/п 701 от 03.12.2026
ИНН …" — the import links the order to the hand entry instead of recording it again, with
partial details (no INN, no order date) matched by number, amount, date and payer; the reverse
order records once too; and imports running in three processes report only what each recorded."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import billing
from portal.accounts.models import AuditEntry
from portal.core.extensions import db
from portal.invoicing import bank_statements, invoices, payment_references, payments
from portal.invoicing.bank_statements import Outcome
from portal.invoicing.models import (
    Invoice,
    InvoiceStatus,
    Payment,
    UnmatchedPayment,
    UnmatchedStatus,
)
from portal.testing.bank import incoming, onec_statement
from portal.testing.concurrency import import_statement_file, run_in_processes
from portal.testing.factories import make_client

D = Decimal
ORDER_DAY = date(2026, 12, 3)
INN = "7712345700"


@pytest.fixture
def company(client_account):
    client_account.inn = INN
    client_account.company = "ООО «Ромашка»"
    client_account.tax_exempt = True  # the invoice's total is the amount
    db.session.commit()
    return client_account


def _issued(client, amount: str) -> Invoice:
    draft = invoices.create_draft(client, [(billing.charge_line("Услуга", D(amount), "RUB"), None)])
    db.session.commit()
    return invoices.issue_invoice(draft, today=date(2026, 12, 1))


def _by_hand(client, invoice: Invoice, reference: str, amount: str = "7000.00", **kwargs):
    return payments.record_payment(
        client,
        amount=D(amount),
        method="bank",
        reference=reference,
        payment_date=kwargs.pop("payment_date", date(2026, 12, 4)),
        invoices=[invoice],
        **kwargs,
    )


def _statement(invoice: Invoice, amount: str = "7000.00", inn: str = INN, number: str = "701"):
    return onec_statement(
        incoming(number, amount, f"Оплата по счету {invoice.number}", inn, day="03.12.2026"),
        day="04.12.2026",
    )


def _payments() -> int:
    return db.session.scalar(select(func.count(Payment.id)))


@pytest.mark.parametrize(
    ("typed", "number"),
    [("701", "701"), ("№ 0701", "701"), ("п/п 701", "701"), ("N701", "701"), ("70a1", None)],
)
def test_order_numbers_as_staff_type_them(typed, number) -> None:
    assert payment_references.order_number(typed) == number


def test_the_statement_and_a_hand_entry_write_the_same_reference(app) -> None:
    statement = bank_statements.parse(_statement_for("2026-000001"))
    entry = statement.entries[0]
    typed = payment_references.bank_order("0701", ORDER_DAY, INN)
    assert entry.reference == typed.text == "п/п 0701 от 03.12.2026 ИНН 7712345700"
    assert entry.payment_reference.key == typed.key == "701/2026-12-03/7712345700"
    assert payment_references.parse("bank", entry.reference).key == typed.key
    assert payment_references.bank_order("701", ORDER_DAY).key == "701/2026-12-03/"
    assert payment_references.parse("bank", "п/п 701").key is None  # no date: not unique
    assert payment_references.parse("card", "  tx 42 ").key == "tx 42"


def _statement_for(number: str) -> bytes:
    return onec_statement(
        incoming("0701", "7000.00", f"Оплата по счету {number}", INN, day="03.12.2026")
    )


def test_a_hand_entry_confirmed_by_the_statement_is_linked_not_recorded_twice(app, company) -> None:
    invoice = _issued(company, "7000.00")
    typed = _by_hand(company, invoice, "п/п 701 от 03.12.2026")
    assert db.session.get(Invoice, invoice.id).status is InvoiceStatus.PAID
    data = _statement(invoice)

    (row,) = bank_statements.preview(bank_statements.parse(data))
    assert row.outcome is Outcome.ALREADY and row.payment.id == typed.id
    assert f"Already recorded by hand as payment #{typed.id}" in row.reason

    report = bank_statements.import_statement(data)
    assert report.recorded == [] and report.unmatched == []
    assert [(entry.number, payment.id) for entry, payment in report.linked] == [("701", typed.id)]
    assert _payments() == 1
    assert db.session.scalar(select(func.count(UnmatchedPayment.id))) == 0
    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.amount_paid == D("7000.00") and invoice.status is InvoiceStatus.PAID
    db.session.refresh(typed)
    assert typed.reference_key == "701/2026-12-03/7712345700"  # the statement's key now
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "bank_statement.match")
        )
        == 1
    )

    # The next file with the same order (a weekly statement) finds it at once.
    weekly = onec_statement(
        incoming("701", "7000.00", f"Оплата по счету {invoice.number}", INN, day="03.12.2026"),
        day="01.12.2026",
    )
    (again,) = bank_statements.preview(bank_statements.parse(weekly))
    assert again.outcome is Outcome.ALREADY and again.reason == ""
    assert bank_statements.import_statement(weekly).linked == []
    assert _payments() == 1


def test_a_hand_entry_without_the_order_date_matches_by_amount_and_arrival(app, company) -> None:
    invoice = _issued(company, "7000.00")
    typed = _by_hand(company, invoice, "701", payment_date=date(2026, 12, 4))  # as before

    report = bank_statements.import_statement(_statement(invoice))

    assert [payment.id for _entry, payment in report.linked] == [typed.id]
    assert _payments() == 1
    assert db.session.get(Invoice, invoice.id).amount_paid == D("7000.00")


def test_an_order_left_to_link_by_hand_before_is_linked_to_the_hand_entry(
    app, company, clock
) -> None:
    invoice = _issued(company, "7000.00")
    typed = _by_hand(company, invoice, "701")
    entry = bank_statements.parse(_statement(invoice)).entries[0]
    db.session.add(  # what the import did before: "invoice … is not awaiting payment"
        UnmatchedPayment(
            reference=entry.reference,
            number="701",
            day=ORDER_DAY,
            currency="RUB",
            amount=entry.amount,
            payer_inn=INN,
            reason="Invoice is not awaiting payment.",
            created_at=clock.now(),
        )
    )
    db.session.commit()

    bank_statements.import_statement(_statement(invoice))

    queued = db.session.scalars(select(UnmatchedPayment)).one()
    assert (queued.status, queued.payment_id) == (UnmatchedStatus.LINKED, typed.id)
    assert _payments() == 1


def test_a_part_paid_by_hand_then_the_statement_changes_nothing(app, company) -> None:
    invoice = _issued(company, "10000.00")
    typed = _by_hand(company, invoice, "п/п 701 от 03.12.2026")
    report = bank_statements.import_statement(_statement(invoice))
    assert [payment.id for _entry, payment in report.linked] == [typed.id]
    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.amount_paid == D("7000.00") and invoice.status is InvoiceStatus.PARTIALLY_PAID


@pytest.mark.parametrize(
    ("amount", "payer_inn", "day"),
    [
        ("7001.00", "", date(2026, 12, 3)),  # another amount
        ("7000.00", "7709999999", date(2026, 12, 3)),  # another payer
        ("7000.00", INN, date(2026, 12, 2)),  # another order date
    ],
)
def test_the_same_number_from_another_payment_is_not_taken_for_it(
    app, company, amount, payer_inn, day
) -> None:
    invoice = _issued(company, "20000.00")
    _by_hand(company, invoice, payment_references.bank_order("701", day, payer_inn).text, amount)

    report = bank_statements.import_statement(_statement(invoice))

    assert len(report.recorded) == 1 and report.linked == []
    assert _payments() == 2


def test_the_same_order_typed_with_another_amount_is_flagged_not_recorded(app, company) -> None:
    invoice = _issued(company, "20000.00")
    typed = _by_hand(company, invoice, payment_references.bank_order("701", ORDER_DAY, INN), "700")
    (row,) = bank_statements.preview(bank_statements.parse(_statement(invoice)))
    assert row.outcome is Outcome.ALREADY and row.payment.id == typed.id
    assert "not the amount of the statement" in row.reason
    assert bank_statements.import_statement(_statement(invoice)).recorded == []
    assert _payments() == 1


def test_a_hand_entry_after_the_import_is_the_imported_payment(app, company) -> None:
    invoice = _issued(company, "7000.00")
    (imported,) = bank_statements.import_statement(_statement(invoice)).recorded
    assert imported.recorded_now

    again = _by_hand(
        company, invoice, payment_references.bank_order("0701", ORDER_DAY), payment_date=ORDER_DAY
    )

    assert again.id == imported.id and not again.recorded_now
    assert _payments() == 1


def test_without_any_inn_another_clients_order_1_is_not_this_one(app, company, clock) -> None:
    company.inn = ""
    other = make_client(clock, first_name="Другой")
    other.tax_exempt = True
    db.session.commit()
    first, second = _issued(company, "500.00"), _issued(other, "500.00")
    theirs = _by_hand(company, first, "1", "500.00")
    ours = _by_hand(other, second, "№ 1", "500.00")
    assert ours.recorded_now and ours.id != theirs.id
    assert _payments() == 2


def test_two_payers_may_send_order_1_on_the_same_day(app, company, clock) -> None:
    other = make_client(clock, first_name="Другой")
    other.inn, other.tax_exempt = "7709999999", True
    db.session.commit()
    first, second = _issued(company, "500.00"), _issued(other, "500.00")
    data = onec_statement(
        incoming("1", "500.00", f"Оплата по счету {first.number}", INN, day="03.12.2026"),
        incoming("1", "500.00", f"Оплата по счету {second.number}", "7709999999", day="03.12.2026"),
    )
    report = bank_statements.import_statement(data)
    assert len(report.recorded) == 2 and _payments() == 2


def test_a_gateway_transaction_id_is_one_payment_with_or_without_spaces(app, company) -> None:
    invoice = _issued(company, "100.00")
    kwargs = {"amount": D("100.00"), "method": "card", "payment_date": ORDER_DAY}
    first = payments.record_payment(company, reference="tx-42", invoices=[invoice], **kwargs)
    assert first.recorded_now
    second = payments.record_payment(company, reference=" tx-42 ", **kwargs)
    assert second.id == first.id and not second.recorded_now  # the callback delivered twice
    assert first.reference_key == "tx-42"


def test_three_processes_importing_the_same_statement_report_each_payment_once(
    app, company, portal_database_url: str, tmp_path
) -> None:
    numbered = [_issued(company, "100.00") for _ in range(5)]
    orders = [
        incoming(str(n), "100.00", f"Оплата по счету {invoice.number}", INN)
        for n, invoice in enumerate(numbered, start=1)
    ]
    # The same statement as three files: as the bank sent it, re-saved as UTF-8, and inside
    # the next day's wider statement; each is a stored file of its own.
    files = [
        onec_statement(*orders),
        onec_statement(*orders, encoding="utf-8-sig"),
        onec_statement(*orders, day="01.11.2026"),
    ]
    db.session.remove()

    recorded = run_in_processes(
        import_statement_file,
        [(portal_database_url, str(tmp_path / f"i{n}"), data) for n, data in enumerate(files)],
    )

    assert db.session.scalar(select(func.count(Payment.id))) == 5
    assert sum(recorded) == 5, recorded
    assert db.session.scalar(select(func.count(UnmatchedPayment.id))) == 0
    paid = db.session.scalars(select(Invoice)).all()
    assert {i.status for i in paid} == {InvoiceStatus.PAID}
    assert sum(i.amount_paid for i in paid) == D("500.00")
