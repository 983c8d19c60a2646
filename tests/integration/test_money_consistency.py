"""Nothing lost under concurrency (issue #14, item 1): two payments of one invoice at the same
instant both count, refunds keep the allocations in step, and the money check finds an invoice
or a credit balance that disagrees with its ledger."""

import multiprocessing
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from portal import billing
from portal.core.extensions import db
from portal.invoicing import invoices, payments
from portal.invoicing.models import Invoice, InvoiceStatus, PaymentAllocation
from portal.invoicing.money_check import check_money
from portal.messaging.models.outbox import OutboundMessage
from portal.platform.jobs.registry import jobs
from portal.platform.jobs.runs import run_job
from portal.testing.concurrency import pay_invoice_at_once
from portal.testing.factories import make_client, make_staff

D = Decimal
TODAY = date(2026, 11, 2)


def _issued(client, amount: str) -> Invoice:
    draft = invoices.create_draft(client, [(billing.charge_line("Услуга", D(amount), "RUB"), None)])
    db.session.commit()
    return invoices.issue_invoice(draft, today=TODAY)


def _allocated(invoice_id: int) -> Decimal:
    return db.session.scalar(
        select(func.sum(PaymentAllocation.amount)).where(PaymentAllocation.invoice_id == invoice_id)
    )


def test_two_payments_at_the_same_instant_both_count(
    app: Flask, clock, portal_database_url, tmp_path: Path
) -> None:
    """Two payments of 603,90 for one 1 207,80 invoice, recorded by two processes that both
    read the invoice before either wrote: the invoice is paid, not "partly paid" with 603,90."""
    client = make_client(clock)
    invoice = _issued(client, "1207.80")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [
        context.Process(
            target=pay_invoice_at_once,
            args=(portal_database_url, str(tmp_path / name), invoice.id, "603.90", name, barrier),
        )
        for name in ("п/п 1", "п/п 2")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]

    db.session.expire_all()
    paid = db.session.get(Invoice, invoice.id)
    assert _allocated(invoice.id) == D("1207.80")
    assert paid.amount_paid == D("1207.80")
    assert paid.status is InvoiceStatus.PAID
    assert payments.credit_balance(client.id, "RUB") == D("0.00")
    assert check_money().clean


def test_a_payment_of_an_invoice_paid_meanwhile_goes_to_credit(app: Flask, clock) -> None:
    """The caller read the invoice as unpaid; another payment settled it before this one was
    recorded: the money is credit, not a second payment of the same invoice."""
    client = make_client(clock)
    invoice = _issued(client, "500.00")
    payments.record_payment(
        client, amount=D("500.00"), method="bank", reference="п/п 8", payment_date=TODAY,
        invoices=[invoice],
    )  # fmt: skip
    # what the caller of the second payment had read before the first one committed
    set_committed_value(invoice, "status", InvoiceStatus.UNPAID)
    set_committed_value(invoice, "amount_paid", D("0.00"))
    payments.record_payment(
        client, amount=D("500.00"), method="bank", reference="п/п 9", payment_date=TODAY,
        invoices=[invoice],
    )  # fmt: skip
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).amount_paid == D("500.00")
    assert _allocated(invoice.id) == D("500.00")
    assert payments.credit_balance(client.id, "RUB") == D("500.00")
    assert check_money().clean


def test_refunds_lower_the_allocations_they_give_back(app: Flask, clock) -> None:
    """Two refunds of one payment that paid two invoices: the second takes from what the first
    left (before, it took the newest allocation again and drove its invoice below zero)."""
    client = make_client(clock)
    first, second = _issued(client, "50.00"), _issued(client, "50.00")
    payment = payments.record_payment(
        client, amount=D("100.00"), method="bank", reference="п/п 3", payment_date=TODAY,
        invoices=[first, second],
    )  # fmt: skip
    payments.refund(payment, D("50.00"), to_credit=True)
    payments.refund(payment, D("50.00"), to_credit=True)
    db.session.expire_all()
    assert [a.amount for a in sorted(payment.allocations, key=lambda a: a.id)] == [D(0), D(0)]
    for invoice in (first, second):
        refunded = db.session.get(Invoice, invoice.id)
        assert (refunded.amount_paid, refunded.status) == (D("0.00"), InvoiceStatus.REFUNDED)
    assert payments.credit_balance(client.id, "RUB") == D("100.00")
    assert check_money().clean


def _check_mail() -> list[OutboundMessage]:
    return list(
        db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.dedupe_key == "money-check:2026-11-02")
        )
    )


def test_the_money_check_finds_injected_drift_and_tells_billing_staff(app: Flask, clock) -> None:
    accountant = make_staff(clock, role="administrator")
    make_staff(clock, role="support")  # may not manage payments: not told
    client = make_client(clock)
    lost, shown_owed = _issued(client, "1207.80"), _issued(client, "100.00")
    for n, invoice in enumerate((lost, shown_owed)):
        payments.record_payment(
            client, amount=invoice.total, method="bank", reference=f"п/п {n}",
            payment_date=TODAY, invoices=[invoice],
        )  # fmt: skip
    payments.grant_credit(client, D("10.00"), description="Компенсация")
    assert check_money().clean
    # the lost update of the issue, a status left behind, credit spent twice
    db.session.execute(
        update(Invoice)
        .where(Invoice.id == lost.id)
        .values(amount_paid=D("603.90"), status=InvoiceStatus.PARTIALLY_PAID)
    )
    db.session.execute(
        update(Invoice).where(Invoice.id == shown_owed.id).values(status=InvoiceStatus.UNPAID)
    )
    payments.add_credit(client, D("-25.00"), payments.CreditReason.APPLIED)
    db.session.commit()

    report = check_money()
    assert [drift.invoice_id for drift in report.invoice_drift] == [lost.id, shown_owed.id]
    assert report.invoice_drift[0].received == D("1207.80")
    assert [(c.client_id, c.balance) for c in report.credit_drift] == [(client.id, D("-15.00"))]

    job = jobs()["billing.money_check"]
    run = run_job(job.id, job.run, TODAY)
    assert (run.counts["invoice_drift"], run.counts["credit_drift"]) == (2, 1)
    assert lost.number in run.counts["details"]
    (mail,) = _check_mail()
    assert mail.to_addrs == [accountant.email]
    assert lost.number in mail.text
    run_job(job.id, job.run, TODAY)  # twice the same day: one e-mail
    assert len(_check_mail()) == 1

    result = app.test_cli_runner().invoke(args=["billing", "check"])
    assert result.exit_code == 1 and "2 invoices and 1 balances disagree" in result.output


def test_the_dashboard_says_when_the_last_check_found_drift(app: Flask, clock, staff_web) -> None:
    client = make_client(clock)
    invoice = _issued(client, "100.00")
    db.session.execute(update(Invoice).where(Invoice.id == invoice.id).values(amount_paid=D("1")))
    db.session.commit()
    job = jobs()["billing.money_check"]
    run_job(job.id, job.run, TODAY)
    assert 'id="money-drift"' in staff_web.get("/admin/").get_data(as_text=True)
    db.session.execute(update(Invoice).where(Invoice.id == invoice.id).values(amount_paid=D("0")))
    db.session.commit()
    run_job(job.id, job.run, TODAY)
    assert 'id="money-drift"' not in staff_web.get("/admin/").get_data(as_text=True)
    assert app.test_cli_runner().invoke(args=["billing", "check"]).exit_code == 0
