"""Matching bank payment orders to invoices (docs/invoices-and-payments.md, "Bank statements"):
invoice numbers after a keyword, bare sequence numbers of the year's series, then payer INN +
exact amount; the INN never contradicts the client's; the preview records nothing; confirming
twice changes nothing; the unmatched queue's actions record through record_payment."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import billing
from portal.core.extensions import db
from portal.invoicing import bank_statements, invoices, payments
from portal.invoicing.bank_statements import NamedNumber, Outcome, named_numbers
from portal.invoicing.models import (
    BankStatementFile,
    CreditEntry,
    Invoice,
    InvoiceStatus,
    Payment,
    UnmatchedPayment,
    UnmatchedStatus,
)
from portal.testing.bank import incoming, onec_statement
from portal.testing.concurrency import confirm_statement, run_in_processes
from portal.testing.factories import make_client

D = Decimal
DAY = date(2026, 11, 2)
INN = "7701234567"


def _issued(client, amount: str, day: date = DAY) -> Invoice:
    client.tax_exempt = True  # the invoice's total is the amount
    draft = invoices.create_draft(client, [(billing.charge_line("Услуга", D(amount), "RUB"), None)])
    db.session.commit()
    return invoices.issue_invoice(draft, today=day)


@pytest.fixture
def company(client_account):
    client_account.inn = INN
    client_account.company = "ООО «Ромашка»"
    db.session.commit()
    return client_account


def _plan(*orders: dict[str, str]) -> list[bank_statements.Planned]:
    return bank_statements.preview(bank_statements.parse(onec_statement(*orders)))


@pytest.mark.parametrize(
    ("purpose", "numbers"),
    [
        ("Оплата по счету 88#72815 от 02.11.2026. НДС нет", [NamedNumber("88#72815", DAY)]),
        ("Оплата услуг сч. № 2026-000123, без НДС", [NamedNumber("2026-000123")]),
        ("Оплата счет 123 от 01.02.2026 сумма 860-00", [NamedNumber("123", date(2026, 2, 1))]),
        ("по счетам №12, 13 и 14", [NamedNumber("12"), NamedNumber("13"), NamedNumber("14")]),
        ("Invoice #2026-000007", [NamedNumber("2026-000007")]),
        ("Оплата 123 руб. ИНН 7701234567 от 01.02.2026", []),
        ("Оплата по счету на сумму 5000 руб", []),
        ("Аренда за ноябрь", []),
    ],
)
def test_invoice_numbers_are_read_only_after_a_keyword(purpose, numbers) -> None:
    assert named_numbers(purpose) == numbers


def test_full_number_bare_sequence_and_numbers_that_are_not_invoices(app, company) -> None:
    first = _issued(company, "100.00")  # 2026-000001
    second = _issued(company, "200.00")  # 2026-000002
    earlier = _issued(company, "300.00", date(2025, 12, 20))  # 2025-000001
    rows = _plan(
        incoming("1", "100.00", f"Оплата по счету {first.number}", INN),
        incoming("2", "200.00", "Оплата по счёту 2 от 02.11.2026", INN),
        incoming("3", "300.00", "Оплата сч. 1 от 20.12.2025", INN),
        # "2" is an amount and "1" part of a date here, not invoices: nothing names an invoice,
        # and no invoice of the payer is for exactly 2,00
        incoming("4", "2.00", "Оплата 2 руб. за 01.11.2026", INN),
    )
    assert [row.outcome for row in rows] == [
        Outcome.MATCHED,
        Outcome.MATCHED,
        Outcome.MATCHED,
        Outcome.UNMATCHED,
    ]
    assert [[invoice.id for invoice, _ in row.shares] for row in rows[:3]] == [
        [first.id],
        [second.id],
        [earlier.id],
    ]
    assert "exactly this amount" in rows[3].reason
    assert db.session.scalar(select(func.count(Payment.id))) == 0  # a preview records nothing


def test_a_bare_number_without_a_date_is_this_years_or_last_years(app, company) -> None:
    december = _issued(company, "300.00", date(2025, 12, 20))  # 2025-000001
    (row,) = _plan(incoming("1", "300.00", "Оплата по счету 1", INN, day="10.01.2026"))
    assert row.outcome is Outcome.MATCHED and row.shares == [(december, D("300.00"))]


def test_inn_and_exact_amount_when_no_number_is_named(app, company, clock) -> None:
    invoice = _issued(company, "860.00")
    _issued(company, "500.00")
    twin_a, twin_b = _issued(company, "700.00"), _issued(company, "700.00")
    rows = _plan(
        incoming("1", "860.00", "Оплата за хостинг", INN),
        incoming("2", "861.00", "Оплата за хостинг", INN),
        incoming("3", "700.00", "Оплата за хостинг", INN),
        incoming("4", "860.00", "Оплата за хостинг", "7709999999"),
        incoming("5", "860.00", "Оплата за хостинг", ""),
    )
    assert rows[0].outcome is Outcome.MATCHED and rows[0].shares == [(invoice, D("860.00"))]
    assert "by the payer's INN" in rows[0].how
    assert [row.outcome for row in rows[1:]] == [Outcome.UNMATCHED] * 4
    assert twin_a.number in rows[2].reason and twin_b.number in rows[2].reason
    assert "no client has INN 7709999999" in rows[3].reason
    assert "no payer INN" in rows[4].reason


def test_the_payers_inn_must_not_contradict_the_clients(app, company) -> None:
    invoice = _issued(company, "860.00")
    (row,) = _plan(incoming("1", "860.00", f"Оплата по счету {invoice.number}", "7709999999"))
    assert row.outcome is Outcome.UNMATCHED
    assert "7709999999" in row.reason and INN in row.reason


def test_a_paid_invoice_named_again_is_left_for_staff(app, company) -> None:
    invoice = _issued(company, "860.00")
    rows = _plan(
        incoming("1", "860.00", f"Оплата по счету {invoice.number}", INN),
        incoming("2", "860.00", f"Оплата по счету {invoice.number} (повторно)", INN),
        incoming("1", "860.00", f"Оплата по счету {invoice.number}", INN),
    )
    assert [row.outcome for row in rows] == [Outcome.MATCHED, Outcome.UNMATCHED, Outcome.ALREADY]
    assert "not awaiting payment" in rows[1].reason


def test_one_order_for_several_invoices_and_the_rest_to_credit(app, company) -> None:
    first, second = _issued(company, "500.00"), _issued(company, "300.00")
    (row,) = _plan(
        incoming("555", "25000.00", f"Оплата по счетам {first.number}, {second.number}", INN)
    )
    assert row.shares == [(first, D("500.00")), (second, D("300.00"))]
    assert row.to_credit == D("24200.00")


def test_confirming_twice_records_once_and_queues_once(app, company) -> None:
    invoice = _issued(company, "860.00")
    data = onec_statement(
        incoming("72815", "860.00", f"Оплата по счету {invoice.number} от 02.11.2026", INN),
        incoming("16", "50.00", "Без счёта", "7709999999", payer="ИП Иванов"),
    )
    stored, _statement = bank_statements.store_statement(data, "выписка.txt")
    assert bank_statements.store_statement(data, "again.txt")[0].id == stored.id

    report = bank_statements.confirm(stored)
    again = bank_statements.confirm(stored)
    cli = bank_statements.import_statement(data)

    assert [p.reference for p in report.recorded] == ["п/п 72815 от 02.11.2026 ИНН 7701234567"]
    assert [entry.number for entry, _reason in report.unmatched] == ["16"]
    assert again.recorded == [] and again.unmatched == [] and cli.recorded == []
    assert [e.number for e in again.already] == ["72815"]
    assert [e.number for e in again.queued_before] == ["16"]
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    assert db.session.scalar(select(func.count(UnmatchedPayment.id))) == 1
    assert db.session.scalar(select(func.count(BankStatementFile.id))) == 1
    assert db.session.get(Invoice, invoice.id).status is InvoiceStatus.PAID
    assert stored.confirmed_at is not None


def test_a_broken_file_is_refused_and_nothing_is_stored(app) -> None:
    data = onec_statement(incoming("1", "сто", "Оплата", INN))
    with pytest.raises(bank_statements.StatementError, match="line 7"):
        bank_statements.store_statement(data)
    with pytest.raises(bank_statements.StatementError, match="empty"):
        bank_statements.store_statement(b"  \r\n")
    with pytest.raises(bank_statements.StatementError, match="larger than 5 MB"):
        bank_statements.store_statement(b"1CClientBankExchange\r\n" + b" " * (5 * 1024 * 1024))
    assert db.session.scalar(select(func.count(BankStatementFile.id))) == 0


def _queued(company, clock, *orders) -> list[UnmatchedPayment]:
    stored, _ = bank_statements.store_statement(onec_statement(*orders))
    bank_statements.confirm(stored)
    return list(db.session.scalars(select(UnmatchedPayment).order_by(UnmatchedPayment.id)))


def test_queue_link_credit_and_dismiss_each_once(app, company, clock) -> None:
    first, second = _issued(company, "500.00"), _issued(company, "300.00")
    link, credit, foreign = _queued(
        company,
        clock,
        incoming("555", "25000.00", "Оплата по договору", "7709999999"),
        incoming("556", "1000.00", "Аванс", ""),
        incoming("557", "10.00", "Возврат", "7708888888"),
    )
    other = make_client(clock, first_name="Другой")
    other.inn = "7709999999"
    db.session.commit()

    with pytest.raises(payments.PaymentError, match="7709999999"):
        bank_statements.resolve_with_payment(link, company, [first])  # INN contradicts
    db.session.rollback()
    assert link.status is UnmatchedStatus.OPEN

    company.inn = ""  # the client's INN was unknown: the payer's does not contradict it
    db.session.commit()
    payment = bank_statements.resolve_with_payment(link, company, [first, second])
    assert (payment.method, payment.reference) == ("bank", link.reference)
    assert [a.amount for a in payment.allocations] == [D("500.00"), D("300.00")]
    assert (link.status, link.payment_id, link.client_id) == (
        UnmatchedStatus.LINKED,
        payment.id,
        company.id,
    )
    with pytest.raises(payments.PaymentError, match="already been dealt with"):
        bank_statements.resolve_with_payment(link, company, [])

    credited = bank_statements.resolve_with_payment(credit, company)
    assert credited.allocations == [] and credit.status is UnmatchedStatus.CREDITED
    assert payments.credit_balance(company.id, "RUB") == D("24200.00") + D("1000.00")

    with pytest.raises(payments.PaymentError, match="Say why"):
        bank_statements.dismiss(foreign, "  ")
    bank_statements.dismiss(foreign, "Ошибочный платёж, вернули отправителю")
    assert (foreign.status, foreign.dismiss_reason) == (
        UnmatchedStatus.DISMISSED,
        "Ошибочный платёж, вернули отправителю",
    )
    with pytest.raises(payments.PaymentError):
        bank_statements.dismiss(foreign, "ещё раз")
    assert db.session.scalar(select(func.count(Payment.id))) == 2
    assert db.session.scalar(select(func.count(CreditEntry.id))) == 2


def test_staff_confirming_the_same_import_at_once_record_each_order_once(
    app, company, portal_database_url: str, tmp_path
) -> None:
    numbered = [_issued(company, "100.00") for _ in range(6)]
    orders = [
        incoming(str(n), "100.00", f"Оплата по счету {invoice.number}", INN)
        for n, invoice in enumerate(numbered, start=1)
    ]
    orders += [incoming(str(n), "5.00", "Не наш", "7709999999") for n in range(10, 14)]
    stored, _statement = bank_statements.store_statement(onec_statement(*orders))
    statement_id = stored.id
    db.session.remove()

    recorded = run_in_processes(
        confirm_statement,
        [(portal_database_url, str(tmp_path / f"c{n}"), statement_id) for n in range(3)],
    )

    assert db.session.scalar(select(func.count(Payment.id))) == 6
    queued = db.session.scalars(select(UnmatchedPayment)).all()
    assert len(queued) == 4, [(q.reference, q.reason) for q in queued]
    assert {i.status for i in db.session.scalars(select(Invoice))} == {InvoiceStatus.PAID}
    assert sum(i.amount_paid for i in db.session.scalars(select(Invoice))) == D("600.00")
    assert sum(recorded) == 6  # orders taken in turn: none reported twice
