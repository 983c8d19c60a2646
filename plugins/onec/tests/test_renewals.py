"""The renewal queue, driven by the clock: queued 60 days before the last day of the period, kept
by an issued invoice until paid, renewed by the payment, not renewed at the end, terminated at
the end of the period after a refusal. Nothing is mocked: the portal's billing run, payments and
overdue automation do their part."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from helpers import licence, set_day
from portal_onec import renewals
from portal_onec.outcomes import Outcome
from portal_onec.renewal_models import OutcomeRecord, Renewal
from sqlalchemy import select

from portal.plugin_api import (
    Invoice,
    InvoiceStatus,
    Service,
    ServiceStatus,
    record_payment,
    session,
)
from portal.testing import actions
from portal.testing.factories import make_client, make_staff

END = date(2026, 3, 31)  # the last day of the licence's period


def items(service: Service) -> list[Renewal]:
    return list(
        session().scalars(
            select(Renewal).where(Renewal.service_id == service.id).order_by(Renewal.id)
        )
    )


def test_a_licence_ending_on_31_march_is_queued_on_30_january_once(app, clock) -> None:
    manager = make_staff(clock, role="sales_manager", email="manager@example.com")
    service = licence(clock, manager=manager)
    assert renewals.last_day(service) == END

    assert renewals.run_daily(date(2026, 1, 29))["queued"] == 0
    assert items(service) == []

    assert renewals.run_daily(date(2026, 1, 30))["queued"] == 1
    assert renewals.run_daily(date(2026, 1, 30))["queued"] == 0  # run twice: queued once
    assert renewals.run_daily(date(2026, 2, 10))["queued"] == 0
    (item,) = items(service)
    assert (item.period_end, item.state, item.manager_id) == (END, "open", manager.id)
    assert (item.queued_on, item.currency) == (date(2026, 1, 30), "RUB")


def test_the_window_is_the_products_between_40_and_60_days(app, clock) -> None:
    licence(clock, window=40)
    assert renewals.run_daily(date(2026, 2, 18))["queued"] == 0  # 41 days before
    assert renewals.run_daily(date(2026, 2, 19))["queued"] == 1  # 40 days before


def test_an_issued_invoice_keeps_it_until_paid_then_it_is_renewed(app, clock) -> None:
    manager = make_staff(clock, role="sales_manager", email="manager@example.com")
    service = licence(clock, manager=manager)
    set_day(clock, date(2026, 1, 30))
    renewals.run_daily(date(2026, 1, 30))
    (item,) = items(service)
    renewals.record_outcome(
        item, Outcome.INVOICE_ISSUED, next_contact=date(2026, 2, 15), staff=manager
    )
    assert (item.state, item.outcome) == ("open", "invoice_issued")

    # the billing run invoices the next year 7 days before the due date (1 April)
    set_day(clock, date(2026, 3, 25))
    actions.run_billing(date(2026, 3, 25))
    renewals.run_daily(date(2026, 3, 25))
    session().refresh(item)
    assert item.state == "open" and item.invoice_id is not None
    invoice = session().get(Invoice, item.invoice_id)
    assert invoice.status is InvoiceStatus.UNPAID
    assert service.next_due_date == date(2027, 4, 1)  # billed in advance

    record_payment(
        service.client, amount=invoice.total, method="bank", reference="п/п 77", invoices=[invoice]
    )
    session().refresh(item)
    assert item.state == "renewed" and item.closed_on == date(2026, 3, 25)
    assert item.revenue == invoice.total == Decimal("29280.00")  # 24 000 + 22 % VAT
    assert renewals.run_daily(date(2026, 4, 2)) == {
        "queued": 0,
        "renewed": 0,
        "not_renewed": 0,
        "reminded": 0,
    }
    assert item.state == "renewed"  # it left the queue and was not closed as unpaid
    queue = session().scalars(renewals.queue_query(as_of=date(2026, 4, 2))).all()
    assert item not in queue
    # the next period is queued in its turn, 60 days before 31 March 2027
    assert renewals.run_daily(date(2027, 1, 30))["queued"] == 1
    assert [i.period_end for i in items(service)] == [END, date(2027, 3, 31)]


def test_unpaid_at_the_end_date_it_is_not_renewed_and_listed_first(app, clock) -> None:
    late = licence(clock, company="ООО «Должник»")
    other = licence(clock, company="ООО «Позже»", start=date(2025, 5, 1))
    renewals.run_daily(date(2026, 3, 2))
    set_day(clock, date(2026, 3, 25))
    actions.run_billing(date(2026, 3, 25))
    assert renewals.run_daily(date(2026, 3, 31))["not_renewed"] == 0  # the last day: still open
    assert renewals.run_daily(date(2026, 4, 1))["not_renewed"] == 1
    (item,) = items(late)
    assert (item.state, item.closed_on) == ("not_renewed", date(2026, 4, 1))
    queue = session().scalars(renewals.queue_query(as_of=date(2026, 4, 1))).all()
    assert [i.service_id for i in queue] == [late.id, other.id]  # the ended one first

    # paid late, it is renewed after all
    invoice = session().get(Invoice, item.invoice_id)
    record_payment(
        late.client, amount=invoice.total, method="bank", reference="п/п 9", invoices=[invoice]
    )
    session().refresh(item)
    assert item.state == "renewed"


def test_a_refusal_needs_a_comment(app, clock) -> None:
    service = licence(clock)
    renewals.run_daily(date(2026, 2, 1))
    (item,) = items(service)
    set_day(clock, date(2026, 2, 1))
    with pytest.raises(renewals.RenewalError, match="comment"):
        renewals.record_outcome(item, Outcome.LEFT, comment="  ")
    session().rollback()
    assert session().scalars(select(OutcomeRecord)).all() == []
    assert item.state == "open" and service.terminate_at_period_end is False
    with pytest.raises(renewals.RenewalError):
        renewals.record_outcome(item, Outcome.INVOICE_ISSUED, next_contact=date(2026, 1, 1))


def test_a_refusal_terminates_the_service_at_the_end_of_its_period(app, clock) -> None:
    manager = make_staff(clock, role="sales_manager", email="manager@example.com")
    service = licence(clock, manager=manager)
    set_day(clock, date(2026, 2, 1))
    renewals.run_daily(date(2026, 2, 1))
    (item,) = items(service)
    renewals.record_outcome(
        item, Outcome.LEFT, comment="Перешли к другому провайдеру", staff=manager
    )
    assert (item.state, item.outcome, item.closed_on) == ("terminated", "left", date(2026, 2, 1))
    assert service.terminate_at_period_end is True
    assert service.termination_reason == "onec:left: Перешли к другому провайдеру"

    set_day(clock, date(2026, 3, 25))
    actions.run_billing(date(2026, 3, 25))  # not renewed: it ends with its period
    assert service.next_due_date == date(2026, 4, 1)
    actions.run_overdue(date(2026, 3, 31))
    assert service.status is ServiceStatus.ACTIVE  # its last day
    set_day(clock, date(2026, 4, 1))
    actions.run_overdue(date(2026, 4, 1))
    session().refresh(service)
    assert service.status is ServiceStatus.TERMINATED
    assert ("terminate", service.id) in {
        (t.action.value, t.service_id) for t in actions.provisioning_tasks()
    }
    history = renewals.history(service.client_id)
    assert [(r.outcome, r.staff_id) for r in history] == [("left", manager.id)]


def test_a_keeping_outcome_after_a_refusal_withdraws_the_termination(app, clock) -> None:
    service = licence(clock)
    set_day(clock, date(2026, 2, 1))
    renewals.run_daily(date(2026, 2, 1))
    (item,) = items(service)
    renewals.record_outcome(item, Outcome.NOT_USED, comment="Не пользуются базой")
    renewals.record_outcome(item, Outcome.INVOICE_ISSUED, comment="Передумали")
    assert item.state == "open" and service.terminate_at_period_end is False
    assert [r.outcome for r in renewals.history(service.client_id)] == [
        "invoice_issued",
        "not_used",
    ]


def test_the_manager_is_reminded_on_the_next_contact_date_once(app, clock, mailbox) -> None:
    manager = make_staff(clock, role="sales_manager", email="manager@example.com")
    manager.language = "ru"
    service = licence(clock, manager=manager)
    set_day(clock, date(2026, 2, 1))
    renewals.run_daily(date(2026, 2, 1))
    (item,) = items(service)
    renewals.record_outcome(item, Outcome.INVOICE_ISSUED, next_contact=date(2026, 2, 10))
    assert renewals.run_daily(date(2026, 2, 9))["reminded"] == 0
    assert renewals.run_daily(date(2026, 2, 10))["reminded"] == 1
    assert renewals.run_daily(date(2026, 2, 10))["reminded"] == 0
    assert renewals.run_daily(date(2026, 2, 11))["reminded"] == 0
    assert item.reminded_for == date(2026, 2, 10)
    sent = app.test_cli_runner().invoke(args=["mail", "send"])
    assert sent.exit_code == 0, sent.output
    (letter,) = [
        m for m in mailbox if m["To"] == "manager@example.com"
    ]  # the client's receipts aside
    assert letter["Auto-Submitted"] == "auto-generated"
    assert (
        letter["Subject"]
        == "Продление: позвонить ООО «Ромашка» по услуге Пакет лицензий 1С в аренду"
    )
    body = letter.get_body(("plain",)).get_content()
    assert "период заканчивается 31.03.2026" in body and f"/admin/onec/renewals/{item.id}" in body


def test_queue_items_and_outcomes_follow_a_merged_client(app, clock) -> None:
    target = make_client(clock, company="ООО «Остаётся»")
    merged = licence(clock, company="ООО «Сливается»")
    set_day(clock, date(2026, 3, 1))
    renewals.run_daily(date(2026, 3, 1))
    (item,) = items(merged)
    renewals.record_outcome(item, Outcome.INVOICE_ISSUED, comment="Позвонить после слияния")
    source_id = merged.client_id
    actions.merge_clients(target, merged.client)
    session().refresh(item)
    assert item.client_id == target.id == merged.client_id
    assert [r.comment for r in renewals.history(target.id)] == ["Позвонить после слияния"]
    assert renewals.history(source_id) == []
