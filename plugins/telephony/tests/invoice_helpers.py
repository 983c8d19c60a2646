"""Reading the invoices the core's billing run writes, for the clock-driven tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal.plugin_api import Client, Invoice, InvoiceLine, session
from portal.testing import actions


def lines_of(invoice: Invoice) -> list[tuple[str, Decimal]]:
    """(description, amount) of each line, in the invoice's order."""
    rows = session().scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.id)
    )
    return [(line.description, line.amount) for line in rows]


def renewal(customer: Client, day: date) -> Invoice:
    """The billing run of ``day``, then the client's newest invoice (its renewal)."""
    actions.run_billing(day)
    query = select(Invoice).where(Invoice.client_id == customer.id).order_by(Invoice.id.desc())
    return session().scalars(query).first()
