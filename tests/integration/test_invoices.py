"""Invoices: drafts, gapless numbering (also under concurrency), snapshots, cancel, credit notes."""

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from portal import billing
from portal.accounts.models import AuditEntry
from portal.core.extensions import db
from portal.invoicing import credit_notes, invoices, payments
from portal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from portal.testing.concurrency import issue_drafts, run_in_processes

D = Decimal
HALF_YEAR = billing.Period(date(2019, 2, 1), date(2019, 8, 1))
VAT22 = billing.LineTax(D("22"), inclusive=False)


def _lines(*amounts: str) -> list[tuple[billing.InvoiceLine, None]]:
    return [
        (billing.charge_line(f"Услуга {n}", D(a), "RUB", period=HALF_YEAR), None)
        for n, a in enumerate(amounts)
    ]


def test_draft_totals_equal_the_lines_and_nothing_is_numbered(app: Flask, client_account) -> None:
    lines = [
        (
            billing.charge_line(
                "Доступ на пользователя «Стандарт»",
                D("4560.00"),
                "RUB",
                quantity=5,
                period=HALF_YEAR,
                details=["Количество пользователей: 5 x Пользователь"],
            ),
            None,
        ),
        (
            billing.charge_line(
                "Пакет лицензий 1С в аренду", D("12825.00"), "RUB", period=HALF_YEAR
            ),
            None,
        ),
    ]
    draft = invoices.create_draft(client_account, lines)
    db.session.commit()
    db.session.expire_all()
    draft = db.session.get(Invoice, draft.id)
    assert draft.status is InvoiceStatus.DRAFT and draft.number is None
    assert draft.total == D("35625.00") == sum(line.total for line in draft.lines)
    assert draft.lines[0].description.endswith("(01.02.2019 - 31.07.2019)")
    assert draft.lines[0].details == ["Количество пользователей: 5 x Пользователь"]


def test_issue_numbers_are_gapless_and_snapshot_the_buyer(app: Flask, client_account) -> None:
    first = invoices.create_draft(client_account, _lines("100.00"))
    second = invoices.create_draft(client_account, _lines("200.00"))
    empty = invoices.create_draft(client_account, [])
    db.session.commit()
    invoices.issue_invoice(first, today=date(2026, 11, 2))
    with pytest.raises(invoices.InvoiceError, match="at least one line"):
        invoices.issue_invoice(empty, today=date(2026, 11, 2))
    db.session.rollback()
    invoices.issue_invoice(second, today=date(2026, 11, 3), due_days=5)
    assert (first.number, second.number) == ("2026-000001", "2026-000002")
    assert second.due_date == date(2026, 11, 8) and second.status is InvoiceStatus.UNPAID
    assert first.buyer["company"] == "ООО «Ромашка»"
    client_account.company = "ООО «Лютик»"
    db.session.commit()
    db.session.refresh(first)
    assert first.buyer["company"] == "ООО «Ромашка»"  # the issued invoice keeps the old name
    with pytest.raises(invoices.InvoiceError, match="cannot be edited"):
        invoices.add_lines(first, _lines("1.00"))
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "invoice.issue"))


def test_a_new_year_starts_a_new_series(app: Flask, client_account) -> None:
    a = invoices.create_draft(client_account, _lines("1.00"))
    b = invoices.create_draft(client_account, _lines("1.00"))
    db.session.commit()
    invoices.issue_invoice(a, today=date(2026, 12, 31))
    invoices.issue_invoice(b, today=date(2027, 1, 1))
    assert (a.number, b.number) == ("2026-000001", "2027-000001")


def test_cancel_and_credit_note(app: Flask, client_account) -> None:
    draft = invoices.create_draft(client_account, _lines("1000.00"))
    db.session.commit()
    invoice = invoices.issue_invoice(draft, today=date(2026, 11, 2))
    note = credit_notes.issue_credit_note(invoice, D("300.00"), "скидка", today=date(2026, 11, 3))
    assert note.kind is InvoiceKind.CREDIT_NOTE and note.total == D("-300.00")
    assert note.number == "К-2026-000001" and note.corrects_id == invoice.id
    assert payments.credit_balance(client_account.id, "RUB") == D("300.00")
    with pytest.raises(invoices.InvoiceError, match="left to correct"):
        credit_notes.issue_credit_note(invoice, D("700.01"), "x", today=date(2026, 11, 3))
    with pytest.raises(invoices.InvoiceError, match="has credit notes"):
        invoices.cancel_invoice(invoice)
    other = invoices.issue_invoice(
        invoices.create_draft(client_account, _lines("5.00")), today=date(2026, 11, 3)
    )
    invoices.cancel_invoice(other)
    assert other.status is InvoiceStatus.CANCELLED and other.number == "2026-000002"


def test_concurrent_issues_get_distinct_consecutive_numbers(
    app: Flask, client_account, portal_database_url: str, tmp_path
) -> None:
    drafts = [invoices.create_draft(client_account, _lines("10.00")) for _ in range(12)]
    db.session.commit()
    ids = [draft.id for draft in drafts]
    db.session.remove()
    batches = [
        (portal_database_url, str(tmp_path / f"i{n}"), ids[n::3], "2026-11-02") for n in range(3)
    ]
    numbers = [number for batch in run_in_processes(issue_drafts, batches) for number in batch]
    assert sorted(numbers) == [f"2026-{n:06d}" for n in range(1, 13)]
