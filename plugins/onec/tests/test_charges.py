"""Additional charges (доп. начисления): a month's sessions and bases above the tariff become
one issued invoice due in 30 days (once, however often the job runs); unpaid on the day after
the due date only that function is blocked, through the provisioning queue, the service staying
active; paying unblocks it; a refusal needs a comment, cancels the invoice, blocks the function
and leaves the statistics; the client and staff lists, the report and its CSV."""

from __future__ import annotations

from csv import reader
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

import pytest
from charge_fixtures import BASE_PRICE, SESSION_PRICE, bases_of, bought, pay, tariff, used
from portal_onec import charges
from portal_onec.charge_model import AdditionalCharge, ChargeState
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.plugin_api import Invoice, InvoiceStatus, ProvisioningAction, ServiceStatus, session
from portal.testing import actions
from portal.testing.factories import make_client, make_staff

D = Decimal
BOUGHT = date(2026, 11, 2)  # the clock's today
DECEMBER = date(2026, 12, 1)
CHARGED_ON = date(2027, 1, 1)  # the job charges December on the first of January
DUE = CHARGED_ON + timedelta(days=30)  # 31.01.2027: the last day to pay


@pytest.fixture
def service(app, clock):
    """A tariff of 5 sessions and 2 bases; in December a peak of 7 sessions on 3 bases."""
    service = bought(clock, tariff(), BOUGHT)
    first, second = bases_of(service, "Бухгалтерия", "ЗУП")
    [third] = bases_of(service, "УНФ", created=date(2026, 12, 5))
    used(first, date(2026, 12, 10), "ivanov", "petrova", "sidorov", "kozlov")
    used(second, date(2026, 12, 10), "ivanov", "smirnov", "orlova")  # 7 sessions on the 10th
    used(first, date(2026, 12, 11), "ivanov", "petrova")
    used(third, date(2026, 12, 11), "ivanov")  # 3 on the 11th
    used(first, date(2027, 1, 5), *(f"user{n}" for n in range(9)))  # January's business
    return service


def run_on(clock, day: date) -> dict[str, int]:
    """The daily job as the scheduler runs it: on ``day``, at 05:00."""
    clock.set(datetime.combine(day, time(5), UTC))
    return charges.run_daily(day)


def charge_rows(month: date = DECEMBER) -> list[AdditionalCharge]:
    """The charges for ``month``: bases first, then sessions."""
    query = select(AdditionalCharge).where(AdditionalCharge.period_start == month)
    return list(session().scalars(query.order_by(AdditionalCharge.function)))


def function_tasks(action: ProvisioningAction) -> list[actions.ProvisioningTask]:
    """The cloud's block_function (carried by suspend) or unblock_function (by unsuspend)."""
    command = {ProvisioningAction.SUSPEND: "block_function"}.get(action, "unblock_function")
    found = [t for t in actions.provisioning_tasks() if t.payload.get("onec_command") == command]
    assert all(t.action is action for t in found)
    return [Task(t.action, {**t.payload, **t.payload["values"]}) for t in found]


class Task(NamedTuple):
    action: ProvisioningAction
    payload: dict


def test_a_months_overage_is_charged_once_as_an_issued_invoice_due_in_30_days(service, clock):
    assert run_on(clock, date(2026, 12, 31))["charged"] == 0  # November: nothing above
    counts = run_on(clock, CHARGED_ON)
    assert counts["charged"] == 2
    assert run_on(clock, CHARGED_ON)["charged"] == 0  # the job run twice charges once
    assert run_on(clock, date(2027, 1, 20))["charged"] == 0
    bases, sessions = charge_rows()
    assert (sessions.function, sessions.measured, sessions.included, sessions.quantity) == (
        "sessions", 7, 5, 2,
    )  # fmt: skip
    assert (bases.function, bases.measured, bases.included, bases.quantity) == ("bases", 3, 2, 1)
    assert (sessions.period_start, sessions.period_end) == (DECEMBER, CHARGED_ON)
    invoice = session().get(Invoice, sessions.invoice_id)
    assert invoice.status is InvoiceStatus.UNPAID and invoice.number
    assert (invoice.issue_date, invoice.due_date, sessions.due_date) == (CHARGED_ON, DUE, DUE)
    [line] = invoice.lines
    assert (line.quantity, line.unit_price, line.total) == (D(2), SESSION_PRICE, D("1000.00"))
    assert line.description.startswith("Concurrent sessions above the tariff (01.12.2026")
    assert sessions.amount == D("1000.00") and bases.amount == BASE_PRICE
    assert sessions.state == ChargeState.OPEN and sessions.currency == "RUB"


def test_the_unique_key_holds_against_a_second_worker(service, clock):
    """A worker that read "not charged" before the other committed is stopped by the key: its
    row and its invoice roll back together."""
    clock.set(datetime.combine(CHARGED_ON, time(5), UTC))
    period = charges.month_before(CHARGED_ON)
    overage = next(o for o in charges.overages(service, period) if o.function == "sessions")
    assert charges.charge(service, period, overage) is not None
    session().commit()
    assert charges.charge(service, period, overage) is None  # seen by the second run
    first = charge_rows()[0]
    columns = ("client_id", "service_id", "function", "period_start", "period_end", "included",
               "measured", "quantity", "unit_price", "amount", "currency", "state", "due_date",
               "refusal_comment", "created_at")  # fmt: skip
    session().add(AdditionalCharge(**{column: getattr(first, column) for column in columns}))
    with pytest.raises(IntegrityError):
        session().commit()
    session().rollback()
    assert len(charge_rows()) == 1
    issued = session().scalars(select(Invoice).where(Invoice.issue_date == CHARGED_ON)).all()
    assert len(issued) == 1


def test_unpaid_the_function_is_blocked_the_day_after_the_30th_day_and_paying_unblocks(
    service, clock
):
    run_on(clock, CHARGED_ON)
    assert run_on(clock, DUE)["blocked"] == 0  # day 30: still the client's to pay
    assert function_tasks(ProvisioningAction.SUSPEND) == []
    assert run_on(clock, DUE + timedelta(days=1))["blocked"] == 2  # day 31
    assert run_on(clock, DUE + timedelta(days=2))["blocked"] == 0
    blocks = function_tasks(ProvisioningAction.SUSPEND)
    assert sorted((t.payload["function"], t.payload["quantity"]) for t in blocks) == [
        ("bases", 1),
        ("sessions", 2),
    ]
    assert {t.payload["reason"] for t in blocks} == {charges.UNPAID}
    session().expire_all()
    assert service.status is ServiceStatus.ACTIVE  # only the functions used on credit
    _bases, sessions = charge_rows()
    assert sessions.state == ChargeState.BLOCKED and sessions.blocked_at is not None

    pay(session().get(Invoice, sessions.invoice_id), "п/п 77", DUE + timedelta(days=3))
    session().expire_all()
    bases, sessions = charge_rows()
    assert (sessions.state, bases.state) == (ChargeState.PAID, ChargeState.BLOCKED)
    [unblock] = function_tasks(ProvisioningAction.UNSUSPEND)
    assert (unblock.payload["function"], unblock.payload["quantity"]) == ("sessions", 2)
    assert unblock.payload["charge_id"] == sessions.id and service.status is ServiceStatus.ACTIVE


def test_paid_in_time_nothing_is_blocked(service, clock):
    run_on(clock, CHARGED_ON)
    for row in charge_rows():
        pay(session().get(Invoice, row.invoice_id), f"доп. начисление {row.id}", DUE)
    assert run_on(clock, DUE + timedelta(days=1))["blocked"] == 0
    assert {row.state for row in charge_rows()} == {ChargeState.PAID}
    assert function_tasks(ProvisioningAction.SUSPEND) == []
    assert function_tasks(ProvisioningAction.UNSUSPEND) == []


def test_a_refusal_needs_a_comment_cancels_the_invoice_and_blocks_the_function(service, clock):
    run_on(clock, CHARGED_ON)
    _bases, sessions = charge_rows()
    with pytest.raises(charges.ChargeError, match="a comment is required"):
        charges.refuse(sessions, "   ")
    assert sessions.state == ChargeState.OPEN
    charges.refuse(sessions, "Сессии открывал наш подрядчик по ошибке")
    session().expire_all()
    assert sessions.state == ChargeState.REFUSED and sessions.refused_at is not None
    assert sessions.refusal_comment == "Сессии открывал наш подрядчик по ошибке"
    assert session().get(Invoice, sessions.invoice_id).status is InvoiceStatus.CANCELLED
    [block] = function_tasks(ProvisioningAction.SUSPEND)
    assert (block.payload["function"], block.payload["reason"]) == ("sessions", charges.REFUSED)
    with pytest.raises(charges.ChargeError, match="no longer be refused"):
        charges.refuse(sessions, "ещё раз")
    # refused is final: the job's overdue pass does not block it a second time
    run_on(clock, DUE + timedelta(days=1))
    assert len([t for t in function_tasks(ProvisioningAction.SUSPEND)
                if t.payload["function"] == "sessions"]) == 1  # fmt: skip


def test_postpaid_charges_everything_and_unpriced_functions_nothing(app, clock):
    service = bought(clock, tariff(sessions=0, bases=0, postpaid=True, base_price="0"), BOUGHT)
    [base] = bases_of(service, "Бухгалтерия")
    used(base, date(2026, 12, 3), "ivanov", "petrova", "sidorov")
    assert run_on(clock, CHARGED_ON)["charged"] == 1  # sessions only: bases cost nothing
    [row] = charge_rows()
    assert (row.function, row.quantity, row.amount) == ("sessions", 3, D("1500.00"))


def test_no_limit_charges_nothing(app, clock):
    service = bought(clock, tariff(sessions=0, bases=0), BOUGHT)
    [base] = bases_of(service, "Бухгалтерия")
    used(base, date(2026, 12, 3), *(f"user{n}" for n in range(30)))  # no limit: nothing above it
    assert run_on(clock, CHARGED_ON) == {"charged": 0, "errors": 0, "blocked": 0}


# --- screens ------------------------------------------------------------------------------------


def test_the_client_pays_or_refuses_in_the_client_area(service, clock, client_web, client_account):
    mine = bought(clock, tariff(), BOUGHT, client=client_account)
    [base] = bases_of(mine, "Розница")
    used(base, date(2026, 12, 20), *(f"kassa{n}" for n in range(6)))
    run_on(clock, CHARGED_ON)
    [row] = [r for r in charge_rows() if r.client_id == client_account.id]
    theirs = next(r for r in charge_rows() if r.client_id != client_account.id)

    page = client_web.get("/onec/charges/").get_data(as_text=True)
    assert f'href="/invoices/{row.invoice_id}"' in page and "12.2026" in page
    assert f"charge-{theirs.id}" not in page  # only the client's own
    assert "ООО «Облако»" not in page
    assert client_web.get(f"/invoices/{row.invoice_id}").status_code == 200
    dashboard = client_web.get("/").get_data(as_text=True)
    assert "All additional charges" in dashboard

    url = f"/onec/charges/{row.id}/refuse"
    field = f"refuse-{row.id}-comment"
    client_account.language = "ru"
    session().commit()
    empty = client_web.submit(url, {field: ""}, form_page="/onec/charges/")
    assert empty.status_code == 400
    assert "Укажите, почему вы отказываетесь от начисления" in empty.get_data(as_text=True)
    session().expire_all()
    assert row.state == ChargeState.OPEN
    assert client_web.submit(
        f"/onec/charges/{theirs.id}/refuse", {f"refuse-{theirs.id}-comment": "x"},
        form_page="/onec/charges/",
    ).status_code == 404  # fmt: skip
    done = client_web.submit(url, {field: "Касса работала в тестовом режиме"}, "/onec/charges/")
    assert done.status_code == 302
    session().expire_all()
    assert row.state == ChargeState.REFUSED
    page = client_web.get("/onec/charges/").get_data(as_text=True)
    assert "Касса работала в тестовом режиме" in page
    assert f'href="/invoices/{row.invoice_id}"' not in page  # nothing left to pay


def test_staff_list_filters_and_needs_billing_view(service, clock, staff_web, app):
    run_on(clock, CHARGED_ON)
    _bases, sessions = charge_rows()
    charges.refuse(sessions, "Не согласны")
    page = staff_web.get("/admin/onec/charges/").get_data(as_text=True)
    assert "ООО «Облако»" in page and "Не согласны" in page
    refused = staff_web.get("/admin/onec/charges/?state=refused").get_data(as_text=True)
    assert f"staff-charge-{sessions.id}" in refused and f"staff-charge-{_bases.id}" not in refused
    bases_only = staff_web.get("/admin/onec/charges/?function=bases").get_data(as_text=True)
    assert f"staff-charge-{_bases.id}" in bases_only
    assert f"staff-charge-{sessions.id}" not in bases_only
    nobody = staff_web.get("/admin/onec/charges/?client=Нет+такого").get_data(as_text=True)
    assert "staff-charge-" not in nobody

    card = staff_web.get(f"/admin/clients/{service.client_id}/tab/onec")
    text = card.get_data(as_text=True)
    assert card.status_code == 200 and f"staff-charge-{sessions.id}" in text
    assert "Не согласны" in text and 'id="onec-charges-section"' in text

    support = make_staff(clock, role="support", email="support@example.com")
    web = app.test_client()
    web.sign_in_staff(support.email)
    assert web.get("/admin/onec/charges/").status_code == 403
    card = web.get(f"/admin/clients/{service.client_id}/tab/onec").get_data(as_text=True)
    assert "onec-tab" in card and "onec-charges-section" not in card  # no billing.view


def test_the_report_leaves_refused_charges_out_and_lists_refusals(service, clock, staff_web):
    run_on(clock, CHARGED_ON)
    bases, sessions = charge_rows()
    charges.refuse(sessions, "Не пользовались")
    pay(session().get(Invoice, bases.invoice_id), "п/п 5", date(2027, 1, 10))
    url = "/admin/reports/onec_charges?since=2026-12-01&until=2026-12-31"
    page = staff_web.get(url).get_data(as_text=True)
    assert "Additional charges and refusals" in page and "<svg" in page
    assert "1000.00<" in page and "1000.0000" not in page  # money rounded to the currency
    csv = staff_web.get(url + "&format=csv").get_data(as_text=True)
    lines = [row for row in reader(csv.splitlines()) if row[0] == "12.2026"]
    assert len(lines) == 2
    by_function = {row[1]: row for row in lines}
    sessions_row = by_function["Concurrent sessions"]
    assert sessions_row[3:6] == ["0", "0", "0.00"]  # refused: out of the counts and amounts
    assert sessions_row[-1] == "1"  # but counted as a refusal
    bases_row = by_function["Information bases"]
    assert bases_row[3:7] == ["1", "1", "1000.00", "1000.00"]
    refusals = staff_web.get(url + "&view=refusals&format=csv").get_data(as_text=True)
    assert "Не пользовались" in refusals and "ООО «Облако»" in refusals
    assert "Information bases" not in refusals


def test_other_clients_see_nothing_of_it(service, clock, app):
    run_on(clock, CHARGED_ON)
    stranger = make_client(clock, email="other@example.com")
    web = app.test_client()
    web.sign_in_client(stranger.email)
    page = web.get("/onec/charges/").get_data(as_text=True)
    assert "charge-" not in page.replace("onec-charges", "")


def test_a_merged_clients_charges_follow(service, clock, client_account):
    run_on(clock, CHARGED_ON)
    source = service.client_id
    actions.merge_clients(client_account, service.client)
    session().expire_all()
    assert {row.client_id for row in charge_rows()} == {client_account.id} != {source}


def test_a_charge_staff_waived_is_not_blocked(service, clock):
    """Staff cancel the invoice (the charge is waived): nothing is blocked after the due date."""
    from portal.plugin_api import cancel_invoice

    run_on(clock, CHARGED_ON)
    _bases, sessions = charge_rows()
    cancel_invoice(session().get(Invoice, sessions.invoice_id))
    assert run_on(clock, DUE + timedelta(days=1))["blocked"] == 1  # only the bases' charge
    assert [t.payload["function"] for t in function_tasks(ProvisioningAction.SUSPEND)] == ["bases"]


def test_only_tariffs_are_charged(service, clock):
    """A product of another kind (a base, a licence) with the same usage charges nothing."""
    fields = dict(service.product.plugin_fields["onec"], kind="base")
    actions.save_product_values(service.product, "onec", fields)
    assert run_on(clock, CHARGED_ON)["charged"] == 0
