"""Statement of account (выписка / акт сверки): what was charged and paid over a date range,
with the opening balance, a running balance and the closing balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from portal import billing
from portal.accounts.models import Client
from portal.core.extensions import db
from portal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus, Payment, PaymentKind

COUNTED = (
    InvoiceStatus.UNPAID,
    InvoiceStatus.PARTIALLY_PAID,
    InvoiceStatus.PAID,
    InvoiceStatus.REFUNDED,
    InvoiceStatus.COLLECTIONS,
    InvoiceStatus.ISSUED,  # a credit note: its negative total reduces what the client owes
)


@dataclass(frozen=True)
class StatementRow:
    day: date
    label: str
    charged: Decimal
    paid: Decimal
    balance: Decimal  # what the client owes after this row (negative: we owe them)


@dataclass(frozen=True)
class Statement:
    start: date
    end: date
    opening: Decimal
    rows: tuple[StatementRow, ...]
    closing: Decimal
    charged: Decimal
    paid: Decimal


def _movements(client: Client, until: date) -> list[tuple[date, int, str, Decimal, Decimal]]:
    moves: list[tuple[date, int, str, Decimal, Decimal]] = []
    zero = billing.round_money(Decimal(0), client.currency)
    for invoice in db.session.scalars(
        select(Invoice).where(
            Invoice.client_id == client.id,
            Invoice.status.in_(COUNTED),
            Invoice.currency == client.currency,
            Invoice.issue_date <= until,
        )
    ):
        label = (
            _("Credit note %(number)s", number=invoice.number)
            if invoice.kind is InvoiceKind.CREDIT_NOTE
            else _("Invoice %(number)s", number=invoice.number)
        )
        moves.append((invoice.issue_date, invoice.id, label, invoice.total, zero))
    for payment in db.session.scalars(
        select(Payment).where(
            Payment.client_id == client.id,
            Payment.currency == client.currency,
            Payment.payment_date <= until,
        )
    ):
        label = (
            _("Refund %(reference)s", reference=payment.reference)
            if payment.kind is PaymentKind.REFUND
            else _("Payment %(reference)s", reference=payment.reference)
        )
        moves.append((payment.payment_date, 10**9 + payment.id, label, zero, payment.amount))
    return sorted(moves)


def statement(client: Client, start: date, end: date) -> Statement:
    zero = billing.round_money(Decimal(0), client.currency)
    opening = zero
    rows: list[StatementRow] = []
    balance = zero
    for day, _order, label, charged, paid in _movements(client, end):
        balance += charged - paid
        if day < start:
            opening = balance
            continue
        rows.append(StatementRow(day, label, charged, paid, balance))
    return Statement(
        start=start,
        end=end,
        opening=opening,
        rows=tuple(rows),
        closing=balance,
        charged=sum((row.charged for row in rows), zero),
        paid=sum((row.paid for row in rows), zero),
    )
