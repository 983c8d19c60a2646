"""Three months of a PBX client, driven by the clock, on the invoices the core's billing run
writes: the plan and its seats in advance, a seat change mid-month prorated by the core to the
same due date, and — in arrears for the month that ended — the numbers' connection fees (the
month they were connected) and monthly fees (every month they were held), a number released
into quarantine and freed by the job. The rating side adds its calls to the same invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import set_day
from portal_telephony import numbers
from portal_telephony.models import PhoneNumber
from sqlalchemy import select

from portal.plugin_api import Invoice, InvoiceLine, record_payment, session
from portal.testing import actions


def _lines(invoice: Invoice) -> list[tuple[str, Decimal]]:
    rows = session().scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.id)
    )
    return [(line.description, line.amount) for line in rows]


def _renewal(customer, as_of: date) -> Invoice:
    set_day_report = actions.run_billing(as_of)
    assert set_day_report is not None
    return (
        session()
        .scalars(
            select(Invoice).where(Invoice.client_id == customer.id).order_by(Invoice.id.desc())
        )
        .first()
    )


@pytest.fixture
def paid_plan(app, clock, customer, catalogue):
    set_day(clock, date(2026, 3, 1))
    product = catalogue["ВАТС «Отдел»"]
    service, invoice = actions.order_and_accept(
        customer, product, options={product.options[0].id: 2}, today=date(2026, 3, 1)
    )
    assert invoice is not None and invoice.total == Decimal("2600.00")  # 2 000 + 2 × 300
    record_payment(
        customer, amount=invoice.total, method="bank", reference="first", invoices=[invoice]
    )
    return service


def test_three_months_of_plan_seats_and_numbers(app, clock, customer, pool, paid_plan) -> None:
    plan = paid_plan
    set_day(clock, date(2026, 3, 5))
    numbers.assign(pool["74957001005"], plan, actor="client", extension="101")  # ordinary
    numbers.assign(pool["74957002233"], plan, actor="client", extension="102")  # gold

    set_day(clock, date(2026, 3, 16))
    option = plan.product.options[0].id
    change = actions.change_options(plan, {option: 4}, today=date(2026, 3, 16))
    # the core's proration for 16 of March's 31 days, to the same due date: the new 4 seats
    # (1 200 × 16/31 = 619.35) less the unused part of the old 2 (600 × 16/31 = 309.68)
    assert change is not None and change.total == Decimal("309.67")
    record_payment(
        customer, amount=change.total, method="bank", reference="seats", invoices=[change]
    )  # the change applies when paid
    session().refresh(plan)
    assert plan.next_due_date == date(2026, 4, 1)

    set_day(clock, date(2026, 4, 1))
    april = _renewal(customer, date(2026, 4, 1))
    lines = _lines(april)
    assert lines[0][1] == Decimal("3200.00")  # the plan with 4 more seats: 2 000 + 4 × 300
    texts = " | ".join(text for text, _amount in lines)
    assert "74957001005" in texts and "74957002233" in texts
    fees = sorted(amount for text, amount in lines if "749570" in text)
    assert fees == sorted(
        [Decimal("2200.00"), Decimal("970.00"), Decimal("25000.00"), Decimal("1500.00")]
    )

    set_day(clock, date(2026, 4, 20))
    numbers.release(pool["74957002233"], actor="client", client_id=customer.id)
    assert numbers.free_due(date(2026, 4, 30)) == {"freed": 1}

    set_day(clock, date(2026, 5, 1))
    may = _renewal(customer, date(2026, 5, 1))
    fees = sorted(amount for text, amount in _lines(may) if "749570" in text)
    assert fees == [Decimal("970.00"), Decimal("1500.00")]  # both held in April, no connection

    set_day(clock, date(2026, 6, 1))
    june = _renewal(customer, date(2026, 6, 1))
    fees = [(text, amount) for text, amount in _lines(june) if "749570" in text]
    assert [amount for _text, amount in fees] == [Decimal("970.00")]
    assert "74957001005" in fees[0][0]
    assert session().get(PhoneNumber, pool["74957002233"]).state == "free"
    # Each month exactly once: running again changes nothing.
    actions.run_billing(date(2026, 6, 1))
    assert _renewal(customer, date(2026, 6, 1)).id == june.id


def test_a_quarterly_plan_pays_each_month_a_number_was_held(
    app, clock, customer, pool, quarterly
) -> None:
    """On the renewal of a quarter (15 March - 15 June), in arrears: every plan month (from
    the 15th) a number was held on any day of, at its monthly fee; the connection fee once."""
    set_day(clock, date(2026, 3, 15))
    plan, first = actions.order_and_accept(
        customer, quarterly, cycle="quarterly", today=date(2026, 3, 15)
    )
    assert first is not None and first.total == Decimal("6000.00")
    record_payment(customer, amount=first.total, method="bank", reference="q", invoices=[first])
    set_day(clock, date(2026, 3, 20))
    numbers.assign(pool["74957001005"], plan, actor="client", extension="101")  # ordinary
    numbers.assign(pool["74957002233"], plan, actor="client", extension="102")  # gold
    set_day(clock, date(2026, 4, 20))  # in the second plan month (15 April - 15 May)
    numbers.release(pool["74957002233"], actor="client", client_id=customer.id)

    set_day(clock, date(2026, 6, 15))
    june = _renewal(customer, date(2026, 6, 15))
    lines = _lines(june)
    assert lines[0][1] == Decimal("6000.00")  # the next quarter, in advance
    fees = {text: amount for text, amount in lines if "749570" in text}
    ordinary = {t: a for t, a in fees.items() if "74957001005" in t}
    gold = {t: a for t, a in fees.items() if "74957002233" in t}
    # ordinary: connection 2 200 + 3 months x 970 = 2 910; gold: 25 000 + 2 months x 1 500
    assert sorted(ordinary.values()) == [Decimal("2200.00"), Decimal("2910.00")]
    assert sorted(gold.values()) == [Decimal("3000.00"), Decimal("25000.00")]
    monthly = session().scalars(
        select(InvoiceLine).where(
            InvoiceLine.invoice_id == june.id, InvoiceLine.description.contains("74957002233")
        )
    )
    (held,) = [line for line in monthly if line.amount == Decimal("3000.00")]
    assert (held.quantity, held.unit_price) == (Decimal(2), Decimal("1500.00"))

    # the next quarter: the ordinary number all three months, no connection
    record_payment(customer, amount=june.total, method="bank", reference="j", invoices=[june])
    set_day(clock, date(2026, 9, 15))
    september = _renewal(customer, date(2026, 9, 15))
    fees = [amount for text, amount in _lines(september) if "749570" in text]
    assert fees == [Decimal("2910.00")]
