"""The invoicing area's built-in plugin: its reaction to a paid invoice and its client records.

Registered before any plugin by the app factory (``BUILTIN_PLUGINS`` in portal/core/app.py), as
datasette registers its ``default_*`` modules; docs/hooks.md, "Built-in plugins".
"""

from __future__ import annotations

from sqlalchemy import select, update

from portal.accounts.clients import ClientRecords
from portal.core.extensions import db
from portal.invoicing import overdue
from portal.invoicing.models import (
    CreditEntry,
    Invoice,
    InvoiceStatus,
    Payment,
    UnmatchedPayment,
)
from portal.platform.hooks import hookimpl


@hookimpl(tryfirst=True)
def invoice_paid(invoice: Invoice) -> None:
    """Services on the invoice that were suspended for non-payment, and owe nothing else
    overdue, come back. ``tryfirst``, after the orders area's reaction (registered later)."""
    overdue.unsuspend_paid(invoice)


def _has_invoices_or_payments(client_id: int) -> bool:
    # The first issued invoice in the order of ix_invoice_client_issue, not EXISTS: PostgreSQL
    # planned EXISTS over a client with many invoices as a sequential scan that hopes for an
    # early match, and read the whole table when the client's rows were the newest (the client
    # card's slowest query, docs/performance.md).
    first_issued = (
        select(Invoice.id)
        .where(Invoice.client_id == client_id, Invoice.status != InvoiceStatus.DRAFT)
        .order_by(Invoice.client_id, Invoice.issue_date, Invoice.id)
        .limit(1)
        .scalar_subquery()
    )
    paid = select(Payment.id).where(Payment.client_id == client_id)
    return db.session.scalar(select(first_issued.is_not(None) | paid.exists())) or False


def _move(source_id: int, target_id: int) -> None:
    """Invoices, payments, the credit ledger and linked bank orders follow a merged client."""
    for model in (Invoice, Payment, CreditEntry, UnmatchedPayment):
        db.session.execute(
            update(model).where(model.client_id == source_id).values(client_id=target_id)
        )


@hookimpl(trylast=True)
def register_client_records() -> list[ClientRecords]:
    """Issued invoices and payments are history: such a client is closed, not deleted."""
    return [ClientRecords("invoicing", _move, has_history=_has_invoices_or_payments)]
