"""What the client-area dashboard shows of a client's money: the invoices to pay with the totals
due, the credit balance in each currency, and the documents of the last month with their PDFs.

Each answer is one or two queries whatever the client's history holds (a test counts them at
two data sizes); the dashboard lists the first rows and links to the full pages. See
docs/clients.md, "The client dashboard".
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, or_, select

from portal import billing
from portal.core.extensions import db
from portal.invoicing import invoice_documents
from portal.invoicing.models import CreditEntry, Invoice, InvoiceKind, InvoiceStatus
from portal.invoicing.payments import PAYABLE

#: Documents listed on the dashboard: invoices and credit notes issued in the window, acts of
#: invoices paid in it.
DOCUMENT_INVOICE = "invoice"
DOCUMENT_CREDIT_NOTE = "credit_note"
DOCUMENT_ACT = "act"


@dataclasses.dataclass(frozen=True)
class DueTotal:
    """What the client owes in one currency: the sum of the balances and of how many invoices."""

    currency: str
    amount: Decimal
    count: int


@dataclasses.dataclass(frozen=True)
class RecentDocument:
    """One document of the window: which kind, of which invoice, dated when."""

    kind: str
    invoice: Invoice
    date: date


def _payable(client_id: int) -> tuple[object, ...]:
    return (
        Invoice.client_id == client_id,
        Invoice.status.in_(PAYABLE),
        Invoice.number.is_not(None),
        Invoice.kind != InvoiceKind.CREDIT_NOTE,
    )


def due_invoices(client_id: int, limit: int) -> list[Invoice]:
    """The client's invoices to pay, the earliest due first, at most ``limit``."""
    return list(
        db.session.scalars(
            select(Invoice)
            .where(*_payable(client_id))
            .order_by(Invoice.due_date.is_(None), Invoice.due_date, Invoice.id)
            .limit(limit)
        ).all()
    )


def due_totals(client_id: int) -> list[DueTotal]:
    """The balance due per currency over *all* the client's payable invoices (one query)."""
    rows = db.session.execute(
        select(
            Invoice.currency,
            func.sum(Invoice.total),
            func.sum(Invoice.amount_paid),
            func.count(Invoice.id),
        )
        .where(*_payable(client_id))
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    )
    return [
        DueTotal(currency, billing.round_money((total or 0) - (paid or 0), currency), count)
        for currency, total, paid, count in rows
    ]


def credit_by_currency(client_id: int, home_currency: str) -> dict[str, Decimal]:
    """The credit balance in every currency the client has one in, the home currency always
    (a zero there is an answer too, and the top-up link sits next to it)."""
    rows = db.session.execute(
        select(CreditEntry.currency, func.sum(CreditEntry.amount))
        .where(CreditEntry.client_id == client_id)
        .group_by(CreditEntry.currency)
        .order_by(CreditEntry.currency)
    )
    balances = {home_currency: Decimal(0)}
    for currency, total in rows:
        amount = billing.round_money(total or Decimal(0), currency)
        if amount or currency == home_currency:
            balances[currency] = amount
    return balances


def recent_documents(client_id: int, since: date, limit: int) -> list[RecentDocument]:
    """The documents dated on or after ``since``, newest first: invoices and credit notes by
    their issue date, acts (``invoice_documents.has_act``) by their invoice's payment date; never
    a draft or a cancelled invoice (the client does not see them)."""
    rows = db.session.scalars(
        select(Invoice)
        .where(
            Invoice.client_id == client_id,
            Invoice.number.is_not(None),
            Invoice.status.not_in((InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED)),
            or_(
                Invoice.issue_date >= since,
                and_(
                    Invoice.status == InvoiceStatus.PAID,
                    Invoice.kind == InvoiceKind.INVOICE,
                    Invoice.paid_date >= since,
                ),
            ),
        )
        .order_by(Invoice.id.desc())
        .limit(limit)
    )
    found: list[RecentDocument] = []
    for invoice in rows:
        if invoice.issue_date is not None and invoice.issue_date >= since:
            kind = (
                DOCUMENT_CREDIT_NOTE
                if invoice.kind is InvoiceKind.CREDIT_NOTE
                else DOCUMENT_INVOICE
            )
            found.append(RecentDocument(kind, invoice, invoice.issue_date))
        if (
            invoice_documents.has_act(invoice)
            and invoice.paid_date is not None
            and invoice.paid_date >= since
        ):
            found.append(RecentDocument(DOCUMENT_ACT, invoice, invoice.paid_date))
    found.sort(key=lambda d: (d.date, d.invoice.id, d.kind), reverse=True)
    return found[:limit]
