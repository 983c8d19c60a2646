"""Credit terms of accounts that may run into debt (постоплата, отсрочка платежа).

A client may have a credit limit (the most its unpaid invoices may add up to), a deferral
(``payment_terms_days``: its invoices are due that many days after issue, see
``invoices.due_days_for``) and "block after M days": while an invoice is more than M days
overdue, or the unpaid total is above the limit, new orders and service changes are refused
with the reason, in the client area and in the admin area alike.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_babel import format_currency
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal import billing
from portal.accounts.models import Client
from portal.core.extensions import db
from portal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus

#: Invoices the client owes (collections included: the debt is still the client's).
OWED = (InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.COLLECTIONS)


def _money(amount: Decimal, currency: str) -> str:
    return format_currency(billing.round_money(amount, currency), currency)


def unpaid_total(client: Client) -> Decimal:
    """What the client owes on issued invoices in its own currency (top-ups not counted)."""
    total, paid = db.session.execute(
        select(func.sum(Invoice.total), func.sum(Invoice.amount_paid)).where(
            Invoice.client_id == client.id,
            Invoice.currency == client.currency,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status.in_(OWED),
        )
    ).one()
    return billing.round_money((total or Decimal(0)) - (paid or Decimal(0)), client.currency)


def order_block_reason(client: Client, today: date) -> str | None:
    """Why ``client`` may not order or change services on ``today``; None if it may."""
    if client.credit_limit is not None:
        owed = unpaid_total(client)
        if owed > client.credit_limit:
            return _(
                "New orders and changes are blocked: unpaid invoices of %(owed)s are above "
                "the credit limit of %(limit)s. Please pay the invoices first.",
                owed=_money(owed, client.currency),
                limit=_money(client.credit_limit, client.currency),
            )
    if client.block_orders_after_days is not None:
        late = db.session.scalar(
            select(Invoice)
            .where(
                Invoice.client_id == client.id,
                Invoice.status.in_(OWED),
                Invoice.due_date < today - timedelta(days=client.block_orders_after_days),
            )
            .order_by(Invoice.due_date, Invoice.id)
            .limit(1)
        )
        if late is not None and late.due_date is not None:
            return _(
                "New orders and changes are blocked: invoice %(number)s is %(days)s days "
                "overdue. Please pay it first.",
                number=late.number,
                days=(today - late.due_date).days,
            )
    return None
