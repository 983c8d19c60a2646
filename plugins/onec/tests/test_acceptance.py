"""The acceptance test of issue #19, driven by the clock through the portal's own services (the
billing run, payments, the provisioning queue running a real program), on SQLite and
PostgreSQL alike:

* a licence ending on 31 March is queued on 30 January (60 days before), an "invoice issued"
  outcome keeps it in the queue until the invoice is paid, and the payment renews it for the
  next period;
* another licence, unpaid, goes to Непродлённые (not renewed) at the end date;
* a refusal without a comment is refused;
* an unused licence is listed as inactive until a manager records an outcome;
* an overage charge unpaid for 30 days blocks exactly the extra sessions (not the service, not
  its bases) and is unblocked when paid.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from helpers import licence, set_day
from portal_onec import charges, demo, inactive, renewals, usage
from portal_onec.charge_model import AdditionalCharge
from portal_onec.organisations import add_base, primary_organisation
from portal_onec.outcomes import Outcome
from portal_onec.renewal_models import Renewal
from sqlalchemy import select

from portal.plugin_api import Invoice, InvoiceStatus, ServiceStatus, record_payment, session
from portal.testing import actions
from portal.testing.factories import make_staff

END = date(2026, 3, 31)  # the last day of the licences' period (bought on 1 April 2025)


def queue_item(service) -> Renewal:
    return session().scalar(
        select(Renewal).where(Renewal.service_id == service.id, Renewal.period_end == END)
    )


def inactive_now(as_of: date) -> dict[int, bool]:
    """The inactive list on ``as_of``: service id -> has an outcome."""
    return {i.service.id: i.outcome is not None for i in inactive.inactive_services(as_of)}


def test_issue_19_acceptance(app, clock, catalogue, customer, script, staff_member) -> None:
    manager = make_staff(clock, role="sales_manager", email="manager@example.com")

    # --- licences bought on 1 April 2025; one of them is never used ------------------------------
    kept = licence(clock, company="ООО «Продлевают»", manager=manager)
    lost = licence(clock, company="ООО «Не платят»", manager=manager)
    unused = licence(clock, company="ООО «Спящая»", inactivity=30)
    assert renewals.last_day(kept) == END

    # the unused licence is inactive from its 30th idle day until a manager records an outcome
    assert unused.id not in inactive_now(date(2025, 4, 30))
    assert inactive_now(date(2025, 5, 1))[unused.id] is False
    set_day(clock, date(2025, 5, 5))
    assert inactive.without_outcome_count() >= 1
    with pytest.raises(renewals.RenewalError):  # a refusal without a comment is refused
        inactive.record_inactive_outcome(unused, Outcome.NOT_USED)
    session().rollback()
    assert inactive_now(date(2025, 5, 5))[unused.id] is False
    inactive.record_inactive_outcome(
        unused, Outcome.NOT_USED, comment="Бухгалтер в декрете", staff=manager
    )
    assert inactive_now(date(2025, 5, 5))[unused.id] is True  # has its outcome now
    assert unused.id not in {
        i.service.id for i in inactive.inactive_services(date(2025, 5, 5)) if i.outcome is None
    }

    # --- the renewal queue: 60 days before 31 March is 30 January --------------------------------
    set_day(clock, date(2026, 1, 29))
    renewals.run_daily(date(2026, 1, 29))
    assert queue_item(kept) is None and queue_item(lost) is None
    set_day(clock, date(2026, 1, 30))
    renewals.run_daily(date(2026, 1, 30))
    renewals.run_daily(date(2026, 1, 30))  # run twice: queued once
    item, other = queue_item(kept), queue_item(lost)
    assert (item.state, item.queued_on, item.manager_id) == ("open", date(2026, 1, 30), manager.id)
    assert session().scalars(select(Renewal).where(Renewal.service_id == kept.id)).all() == [item]

    # a refusal without a comment is refused; an "invoice issued" outcome keeps the item
    with pytest.raises(renewals.RenewalError, match="comment"):
        renewals.record_outcome(other, Outcome.LEFT, comment="  ", staff=manager)
    session().rollback()
    assert other.state == "open" and lost.terminate_at_period_end is False
    renewals.record_outcome(
        item, Outcome.INVOICE_ISSUED, next_contact=date(2026, 2, 16), staff=manager
    )
    set_day(clock, date(2026, 3, 25))
    actions.run_billing(date(2026, 3, 25))  # the next year is invoiced 7 days ahead
    renewals.run_daily(date(2026, 3, 25))
    session().refresh(item)
    assert (item.state, item.outcome) == ("open", "invoice_issued") and item.invoice_id
    invoice = session().get(Invoice, item.invoice_id)
    assert invoice.status is InvoiceStatus.UNPAID

    # paid: renewed for the next period, out of the queue
    record_payment(
        kept.client, amount=invoice.total, method="bank", reference="п/п 101", invoices=[invoice]
    )
    session().refresh(item)
    session().refresh(kept)
    assert item.state == "renewed" and kept.next_due_date == date(2027, 4, 1)

    # the other one is unpaid: still open on its last day, Непродлённые the day after it
    set_day(clock, END)
    assert renewals.run_daily(END)["not_renewed"] == 0
    set_day(clock, END + timedelta(days=1))
    assert renewals.run_daily(END + timedelta(days=1))["not_renewed"] == 2  # and the unused one
    session().refresh(other)
    assert (other.state, other.closed_on) == ("not_renewed", date(2026, 4, 1))
    queue = session().scalars(renewals.queue_query(as_of=date(2026, 4, 1))).all()
    assert other in queue and item not in queue

    # --- an overage charge: 7 sessions on a tariff of 5, unpaid for 30 days ----------------------
    actions.save_plugin_settings(
        "onec", {"backend": "command", "command": str(script.path), "timeout": 10}
    )
    start = catalogue[demo.TARIFF_START]  # 5 concurrent sessions, 2 bases
    actions.save_product_values(
        start, "onec_charges", {"session_price": "500.00", "base_price": "1000.00",
                                "days_to_pay": 30, "postpaid": False},
    )  # fmt: skip
    set_day(clock, date(2026, 4, 1))
    tariff, first = actions.order_and_accept(
        customer, start, cycle="monthly", today=date(2026, 4, 1)
    )
    record_payment(customer, amount=first.total, method="bank", reference="п/п 102",
                   invoices=[first])  # fmt: skip
    base = add_base(
        primary_organisation(customer.id), name="Бухгалтерия",
        configuration="Бухгалтерия предприятия", service=tariff,
    )  # fmt: skip
    actions.run_provisioning(clock.now())
    assert [line.split()[0] for line in script.calls()[-2:]] == ["set_limits", "create_base"]

    logins = [f"user{n}" for n in range(7)]
    export = [{"base": base.id, "login": x, "time": "2026-05-14T10:00:00"} for x in logins]
    export += [{"base": base.id, "login": "user0", "time": "2026-05-15T10:00:00"}]
    usage.store(usage.read_export(json.dumps(export).encode()))

    set_day(clock, date(2026, 6, 1))
    assert charges.run_daily(date(2026, 6, 1))["charged"] == 1  # May: 7 sessions, 2 above
    assert charges.run_daily(date(2026, 6, 1))["charged"] == 0
    charge = session().scalar(select(AdditionalCharge))
    assert (charge.function, charge.quantity, charge.amount) == ("sessions", 2, Decimal("1000.00"))
    bill = session().get(Invoice, charge.invoice_id)
    assert bill.status is InvoiceStatus.UNPAID and bill.due_date == date(2026, 7, 1)

    set_day(clock, date(2026, 7, 1))  # day 30: the last day to pay
    assert charges.run_daily(date(2026, 7, 1))["blocked"] == 0
    set_day(clock, date(2026, 7, 2))  # day 31: the extra sessions are blocked
    assert charges.run_daily(date(2026, 7, 2))["blocked"] == 1
    assert charges.run_daily(date(2026, 7, 2))["blocked"] == 0
    actions.run_provisioning(clock.now())
    assert script.calls()[-1] == (
        f"block_function --function=sessions --quantity=2 --service_id={tariff.id}"
    )
    session().refresh(tariff)
    session().refresh(base)
    assert tariff.status is ServiceStatus.ACTIVE and base.state == "active"
    assert not [c for c in script.calls() if c.startswith("block_base")]

    record_payment(customer, amount=bill.balance, method="bank", reference="п/п 103",
                   invoices=[bill])  # fmt: skip
    session().refresh(charge)
    assert charge.state == "paid"
    actions.run_provisioning(clock.now())
    assert script.calls()[-1] == (
        f"unblock_function --function=sessions --quantity=2 --service_id={tariff.id}"
    )
    assert [c.split()[0] for c in script.calls()].count("block_function") == 1
