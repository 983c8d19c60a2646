"""The admin dashboard's figures follow the rows they count (invoices issued, paid and cancelled;
tickets opened and closed) and cost the same number of queries however long the job history."""

import re
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal import billing
from portal.core.clock import today
from portal.core.extensions import db
from portal.invoicing import invoices, payments
from portal.platform.jobs.runs import last_runs
from portal.platform.models.job import JobRun, RunStatus
from portal.support import tickets
from portal.testing.factories import make_client, make_department
from portal.testing.queries import counted


def _figure(staff_web, key: str) -> int:
    page = staff_web.get("/admin/").get_data(as_text=True)
    found = re.search(rf'data-counter="{key}">\s*<a href="[^"]*">(\d+)</a>', page)
    assert found, key
    return int(found[1])


def _issued(client, amount: str = "860.00"):
    draft = invoices.create_draft(
        client, [(billing.charge_line("Диск 5 ГБ", Decimal(amount), "RUB"), None)]
    )
    db.session.commit()
    return invoices.issue_invoice(draft, today=today())


def test_figures_follow_invoices_and_tickets(staff_web, clock) -> None:
    client = make_client(clock, company="ООО «Ромашка»")
    desk = make_department("Поддержка")
    db.session.commit()
    assert _figure(staff_web, "overdue_invoices") == 0
    paid, cancelled, left = _issued(client), _issued(client), _issued(client)
    assert _figure(staff_web, "overdue_invoices") == 0  # not due yet
    clock.advance(timedelta(days=60))
    assert _figure(staff_web, "overdue_invoices") == 3
    payments.record_payment(
        client,
        amount=paid.total,
        method="bank",
        reference="п/п 1",
        payment_date=today(),
        invoices=[paid],
    )
    assert _figure(staff_web, "overdue_invoices") == 2
    invoices.cancel_invoice(cancelled)
    db.session.commit()
    assert _figure(staff_web, "overdue_invoices") == 1
    assert left.status.value == "unpaid"

    assert _figure(staff_web, "tickets_awaiting_reply") == 0
    first = tickets.open_ticket(subject="Вопрос", body="?", department_id=desk.id, client=client)
    tickets.open_ticket(subject="Ещё", body="?", department_id=desk.id, client=client)
    db.session.commit()
    assert _figure(staff_web, "tickets_awaiting_reply") == 2
    tickets.close_by_client(first)
    db.session.commit()
    assert _figure(staff_web, "tickets_awaiting_reply") == 1


def _add_runs(count: int, clock) -> None:
    now = clock.now()
    db.session.execute(
        sa.insert(JobRun),
        [
            {
                "job_id": ("mail.send", "billing.run", "billing.money_check")[n % 3],
                "started_at": now - timedelta(minutes=count - n),
                "finished_at": now - timedelta(minutes=count - n),
                "status": RunStatus.SUCCEEDED,
                "counts": {"invoice_drift": n % 2} if n % 3 == 2 else {},
            }
            for n in range(count)
        ],
    )
    db.session.commit()


def test_latest_runs_and_dashboard_queries_do_not_grow_with_the_history(staff_web, clock) -> None:
    _add_runs(9, clock)
    staff_web.get("/admin/")  # warm up: settings, menu
    with counted() as small:
        assert staff_web.get("/admin/").status_code == 200
    _add_runs(3000, clock)
    with counted() as large:
        page = staff_web.get("/admin/")
    assert page.status_code == 200
    assert len(large) == len(small)
    latest = last_runs(["billing.money_check", "mail.send", "never.ran"])
    newest = {
        job_id: db.session.scalar(sa.select(sa.func.max(JobRun.id)).where(JobRun.job_id == job_id))
        for job_id in ("billing.money_check", "mail.send")
    }
    assert {job_id: run.id for job_id, run in latest.items()} == newest
    # the latest money check (n = 2999: drift 1) is the one the dashboard reports
    assert latest["billing.money_check"].counts == {"invoice_drift": 1}
    assert last_runs([]) == {}


def _recount(today_) -> tuple[int, int, int]:
    """The figures counted from the rows, as the counters did before migration 0036."""
    from portal.invoicing.models import Invoice
    from portal.invoicing.models.invoice import OVERDUE_STATUSES
    from portal.orders.models import Order, OrderStatus
    from portal.support.models.ticket import AWAITING_STAFF, Ticket

    overdue = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Invoice)
        .where(Invoice.status.in_(OVERDUE_STATUSES), Invoice.due_date < today_)
    )
    awaiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Ticket)
        .where(Ticket.status.in_(AWAITING_STAFF), Ticket.merged_into_id.is_(None))
    )
    pending = db.session.scalar(
        sa.select(sa.func.count()).select_from(Order).where(Order.status == OrderStatus.PENDING)
    )
    return overdue, awaiting, pending


def _figures(today_) -> tuple[int, int, int]:
    from portal.orders.orders import pending_count

    return invoices.overdue_count(today_), tickets.awaiting_reply_count(), pending_count()


def test_counters_follow_bulk_statements_and_deletes(app, clock) -> None:
    """The triggers keep the counts whoever writes: a bulk UPDATE, a changed due date, a
    merge, a DELETE — the figures equal a recount after each."""
    from portal.orders.models import Order, OrderStatus

    client = make_client(clock)
    orders = [
        Order(
            client_id=client.id, status=OrderStatus.PENDING, currency="RUB", created_at=clock.now()
        )
        for _ in range(3)
    ]
    db.session.add_all(orders)
    desk = make_department("Поддержка")
    db.session.commit()
    made = [_issued(client) for _ in range(4)]
    opened = [
        tickets.open_ticket(subject=f"Вопрос {n}", body="?", department_id=desk.id, client=client)
        for n in range(3)
    ]
    db.session.commit()
    clock.advance(timedelta(days=60))
    steps = [
        "UPDATE invoice SET due_date = :later WHERE id = :first",
        "UPDATE invoice SET status = 'partially_paid' WHERE id = :second",
        "UPDATE invoice SET status = 'paid' WHERE id = :third",
        "UPDATE invoice SET status = status",
        "DELETE FROM invoice_line WHERE invoice_id = :fourth",
        "DELETE FROM invoice WHERE id = :fourth",
        "UPDATE ticket SET merged_into_id = :ticket_a WHERE id = :ticket_b",
        "UPDATE ticket SET status = 'closed' WHERE id = :ticket_c",
        "UPDATE sales_order SET status = 'active' WHERE id = :order_a",
        "DELETE FROM sales_order WHERE id = :order_b",
    ]
    params = {
        "later": today() + timedelta(days=5),
        "first": made[0].id,
        "second": made[1].id,
        "third": made[2].id,
        "fourth": made[3].id,
        "ticket_a": opened[0].id,
        "ticket_b": opened[1].id,
        "ticket_c": opened[2].id,
        "order_a": orders[0].id,
        "order_b": orders[1].id,
    }
    assert _figures(today()) == (4, 3, 3)
    for step in steps:
        db.session.execute(sa.text(step), params)
        db.session.commit()
        figures = _figures(today())
        assert figures == _recount(today()), step
    assert figures == (1, 1, 1)
