"""Reminders and late fees, clock-driven: each reminder once however often the job runs, stages
skipped when the job missed days, clients with notices or fees off; fixed and percent fees,
repeating up to a cap, never a fee on a fee; two runs (or four processes at once) equal one."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import billing
from portal.core.extensions import db
from portal.invoicing import dunning, invoices, payments
from portal.invoicing.models import Invoice, InvoiceReminder, InvoiceStatus, LateFee, ReminderKind
from portal.messaging.models import OutboundMessage
from portal.messaging.outbox import deliver_outbox
from portal.platform import runtime_settings
from portal.platform.jobs.registry import jobs
from portal.platform.jobs.runs import run_job
from portal.testing.factories import make_client

D = Decimal
ISSUED = date(2026, 11, 2)
DUE = date(2026, 11, 12)


def issue(client, amount: str = "1000.00", due: date = DUE, on: date = ISSUED) -> Invoice:
    draft = invoices.create_draft(client, [(billing.charge_line("Услуга", D(amount), "RUB"), None)])
    db.session.commit()
    return invoices.issue_invoice(draft, today=on, due_days=(due - on).days)


def pay(client, invoice: Invoice, amount: str, reference: str, on: date = ISSUED) -> None:
    payments.record_payment(
        client,
        amount=D(amount),
        method="bank",
        reference=reference,
        payment_date=on,
        invoices=[invoice],
    )


def run(job: str, as_of: date, clock) -> dict[str, int]:
    """Run a job the way the scheduler does, with the clock on the morning of ``as_of``."""
    clock.set(datetime.combine(as_of, time(6, 0), UTC))
    done = run_job(job, jobs()[job].run, as_of)
    assert done is not None and not done.error, done and done.error
    return done.counts


def reminders() -> list[tuple[int, str, date]]:
    rows = db.session.execute(
        select(InvoiceReminder.invoice_id, InvoiceReminder.kind, InvoiceReminder.sent_on).order_by(
            InvoiceReminder.id
        )
    )
    return [(invoice_id, kind.value, sent_on) for invoice_id, kind, sent_on in rows]


def outbox_subjects() -> list[str]:
    return list(db.session.scalars(select(OutboundMessage.subject).order_by(OutboundMessage.id)))


# --- reminders ----------------------------------------------------------------------------------


def test_each_reminder_is_sent_once_on_its_day(app: Flask, client_account, clock, mailbox) -> None:
    invoice = issue(client_account)
    number = invoice.number
    sent_on: dict[date, str] = {}
    day = ISSUED
    while day <= DUE + timedelta(days=20):
        for _twice in range(2):
            counts = run("billing.reminders", day, clock)
            if sum(v for k, v in counts.items() if k != "errors"):
                sent_on[day] = next(k for k, v in counts.items() if v)
        day += timedelta(days=1)
    assert sent_on == {
        date(2026, 11, 9): "before_due",  # 3 days before
        DUE: "on_due",
        date(2026, 11, 13): "first_overdue",  # 1 day overdue
        date(2026, 11, 19): "second_overdue",  # 7 days
        date(2026, 11, 26): "third_overdue",  # 14 days
    }
    assert [kind for _id, kind, _on in reminders()] == [k.value for k in ReminderKind]
    assert outbox_subjects() == [
        f"Reminder: invoice {number} is due on 11/12/26",
        f"Invoice {number} is due today",
        f"Invoice {number} is overdue",
        f"Second reminder: invoice {number} is overdue",
        f"Final reminder: invoice {number} is overdue",
    ]
    assert deliver_outbox(limit=10).sent == 5
    final = mailbox[-1]
    assert final["To"] == client_account.email
    body = final.get_content()
    assert f"invoice {number} is 14 days overdue; RUB\xa01,000.00 is still unpaid" in body
    assert f"/invoices/{invoice.id}" in body


def test_a_job_that_missed_days_sends_only_the_latest_stage(app: Flask, client_account, clock):
    invoice = issue(client_account)
    assert run("billing.reminders", date(2026, 11, 20), clock)["second_overdue"] == 1
    assert run("billing.reminders", date(2026, 11, 21), clock)["second_overdue"] == 0
    assert run("billing.reminders", date(2026, 12, 30), clock)["third_overdue"] == 1
    assert [(i, kind) for i, kind, _on in reminders()] == [
        (invoice.id, "second_overdue"),
        (invoice.id, "third_overdue"),
    ]
    assert len(outbox_subjects()) == 2


def test_settings_turn_stages_off_and_paid_invoices_are_left_alone(
    app: Flask, client_account, clock
) -> None:
    runtime_settings.put("reminder_days_before_due", 0)
    runtime_settings.put("reminder_on_due", False)
    runtime_settings.put("overdue_reminder_days", [3, 0, 0])
    unpaid, paid = issue(client_account), issue(client_account)
    pay(client_account, paid, "1000.00", "п/п 1")
    for day in range(1, 31):
        run("billing.reminders", date(2026, 11, day), clock)
    assert [(i, kind, on) for i, kind, on in reminders()] == [
        (unpaid.id, "first_overdue", date(2026, 11, 15))
    ]


def test_clients_with_overdue_notices_off_get_no_reminders(app: Flask, clock) -> None:
    quiet = make_client(clock, no_overdue_notices=True)
    issue(quiet)
    for day in (date(2026, 11, 9), DUE, date(2026, 11, 13), date(2026, 12, 31)):
        assert run("billing.reminders", day, clock)["errors"] == 0
    assert reminders() == [] and outbox_subjects() == []


# --- late fees ----------------------------------------------------------------------------------


def fee_invoices() -> list[Invoice]:
    fee_ids = dunning.late_fee_invoice_ids()
    return list(
        db.session.scalars(select(Invoice).where(Invoice.id.in_(fee_ids)).order_by(Invoice.id))
    )


def test_a_fixed_fee_once(app: Flask, client_account, clock) -> None:
    runtime_settings.put(
        "late_fee", {"kind": "fixed", "amount": "500.00", "after_days": 5, "repeat_days": 0}
    )
    invoice = issue(client_account)
    assert run("billing.late_fees", date(2026, 11, 16), clock)["invoices"] == 0  # 4 days overdue
    assert run("billing.late_fees", date(2026, 11, 17), clock) == {
        "invoices": 1,
        "fees": 1,
        "errors": 0,
    }
    assert run("billing.late_fees", date(2026, 11, 17), clock)["invoices"] == 0
    assert run("billing.late_fees", date(2026, 12, 31), clock)["invoices"] == 0  # once only
    (fee,) = fee_invoices()
    assert fee.status is InvoiceStatus.UNPAID and fee.number and fee.client_id == client_account.id
    assert (fee.issue_date, fee.total, fee.tax) == (date(2026, 11, 17), D("500.00"), D("0.00"))
    (line,) = fee.lines
    assert line.description == f"Late fee for invoice {invoice.number}"
    assert line.details == ["Fee 1: 5 days overdue"] and line.tax_percent is None
    recorded = db.session.scalars(select(LateFee)).one()
    assert (recorded.invoice_id, recorded.sequence, recorded.amount, recorded.fee_invoice_id) == (
        invoice.id,
        1,
        D("500.00"),
        fee.id,
    )
    assert outbox_subjects() == [f"Late fee for invoice {invoice.number}"]
    message = db.session.scalars(select(OutboundMessage)).one()
    assert [a.invoice_id for a in message.attachments] == [fee.id]  # the fee's PDF


def test_percent_fees_repeat_up_to_the_cap(app: Flask, client_account, clock) -> None:
    runtime_settings.put(
        "late_fee",
        {"kind": "percent", "amount": "5", "after_days": 1, "repeat_days": 7, "cap": "100.00"},
    )
    invoice = issue(client_account)
    pay(client_account, invoice, "400.00", "п/п 2")  # 600.00 left: each fee is 5 %, 30.00
    for day in range(13, 31):
        run("billing.late_fees", date(2026, 11, day), clock)
    for day in range(1, 31):
        run("billing.late_fees", date(2026, 12, day), clock)
    fees = fee_invoices()
    assert [(f.issue_date, f.total) for f in fees] == [
        (date(2026, 11, 13), D("30.00")),  # 1 day overdue
        (date(2026, 11, 20), D("30.00")),  # 8
        (date(2026, 11, 27), D("30.00")),  # 15
        (date(2026, 12, 4), D("10.00")),  # 22: cut to the cap of 100.00
    ]
    # The fee invoices are overdue themselves by now, and carry no fees of their own.
    assert {fee.invoice_id for fee in db.session.scalars(select(LateFee))} == {invoice.id}


def test_fees_due_while_the_job_did_not_run_go_on_one_invoice(
    app: Flask, client_account, clock
) -> None:
    runtime_settings.put(
        "late_fee", {"kind": "fixed", "amount": "100.00", "after_days": 3, "repeat_days": 10}
    )
    invoice = issue(client_account)
    assert run("billing.late_fees", date(2026, 12, 5), clock) == {  # 23 days overdue
        "invoices": 1,
        "fees": 3,
        "errors": 0,
    }
    (fee,) = fee_invoices()
    assert fee.total == D("300.00")
    assert [line.details for line in fee.lines] == [
        ["Fee 1: 23 days overdue"],
        ["Fee 2: 23 days overdue"],
        ["Fee 3: 23 days overdue"],
    ]
    assert db.session.scalars(select(LateFee.sequence).order_by(LateFee.sequence)).all() == [
        1,
        2,
        3,
    ]
    assert run("billing.late_fees", date(2026, 12, 5), clock)["fees"] == 0
    pay(client_account, invoice, "1000.00", "п/п 3", date(2026, 12, 6))
    assert run("billing.late_fees", date(2026, 12, 25), clock)["fees"] == 0  # paid: no more


def test_exempt_clients_and_fees_off_charge_nothing(app: Flask, clock) -> None:
    exempt = make_client(clock, no_late_fees=True)
    other = make_client(clock)
    issue(exempt), issue(other)
    assert run("billing.late_fees", date(2026, 12, 31), clock)["invoices"] == 0  # the default: off
    runtime_settings.put(
        "late_fee", {"kind": "fixed", "amount": "500.00", "after_days": 5, "repeat_days": 0}
    )
    assert run("billing.late_fees", date(2026, 12, 31), clock)["invoices"] == 1
    assert [fee.client_id for fee in fee_invoices()] == [other.id]


def test_the_invoice_page_lists_reminders_and_fees(app: Flask, staff_web, client_account, clock):
    runtime_settings.put(
        "late_fee", {"kind": "fixed", "amount": "500.00", "after_days": 1, "repeat_days": 0}
    )
    invoice = issue(client_account)
    run("billing.reminders", date(2026, 11, 13), clock)
    run("billing.late_fees", date(2026, 11, 13), clock)
    (fee,) = fee_invoices()
    page = staff_web.get(f"/admin/billing/invoices/{invoice.id}").get_data(as_text=True)
    assert 'id="invoice-reminders"' in page and "First overdue notice" in page
    assert 'id="invoice-late-fees"' in page and fee.number in page
    fee_page = staff_web.get(f"/admin/billing/invoices/{fee.id}").get_data(as_text=True)
    assert 'id="late-fee-for"' in fee_page and invoice.number in fee_page


# --- several workers ----------------------------------------------------------------------------


def run_job_in_process(database_url: str, instance_path: str, job: str, day: str) -> dict:
    """A job's service call in its own process and app (no lease: the unique keys alone)."""
    from portal.core.app import create_app

    app = create_app(
        {"database_url": database_url, "secret_key": "concurrency", "plugins": []},
        instance_path=instance_path,
    )
    with app.app_context():
        return jobs()[job].run(date.fromisoformat(day))


@pytest.mark.postgres_only
def test_four_processes_at_once_send_and_charge_once(
    app: Flask, clock, portal_database_url, tmp_path
) -> None:
    from portal.testing.concurrency import run_in_processes

    runtime_settings.put(
        "late_fee", {"kind": "fixed", "amount": "50.00", "after_days": 1, "repeat_days": 0}
    )
    clients = [make_client(clock) for _n in range(6)]
    for client in clients:
        issue(client), issue(client, "200.00")
    for job in ("billing.reminders", "billing.late_fees"):
        args = [
            (portal_database_url, str(tmp_path / f"{job}{n}"), job, "2026-11-20") for n in range(4)
        ]
        run_in_processes(run_job_in_process, args)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(InvoiceReminder.id))) == 12
    assert db.session.scalar(select(func.count(LateFee.id))) == 12
    assert len(fee_invoices()) == 12
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == 24
    numbers = sorted(db.session.scalars(select(Invoice.sequence)).all())
    assert numbers == list(range(1, 25))  # 12 invoices and 12 fee invoices, gapless
