"""The money consistency check: what is stored agrees with the ledger it comes from.

An invoice's ``amount_paid`` is what its payment allocations and the credit applied to it add up
to (a refund lowers the allocation it gives back), and its status follows from that amount and
its total; a client's credit balance is the sum of the credit ledger, never below zero (credit
spent twice). Every writer keeps this under a row lock (docs/development.md, "Transactions");
the check is the net under it. The ``billing.money_check`` job runs it nightly, keeps the
figures in the job history, and mails staff who manage billing when anything disagrees;
``portal billing check`` runs it by hand (docs/invoices-and-payments.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts.models import Staff
from portal.accounts.models.permissions import Permission
from portal.core.extensions import db
from portal.invoicing.models import (
    CreditEntry,
    CreditReason,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    PaymentAllocation,
)

#: How many disagreements the job's stored result and the staff e-mail name one by one.
LISTED = 20

_OWED = (InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.COLLECTIONS)
_NOTHING_PAID = (InvoiceStatus.UNPAID, InvoiceStatus.REFUNDED, InvoiceStatus.CANCELLED)


def _money(amount: Decimal, currency: str) -> str:
    from portal.web.formatting import money

    return money(amount, currency)


@dataclass(frozen=True)
class InvoiceDrift:
    """An invoice whose paid amount or status disagrees with its payments and credit."""

    invoice_id: int
    number: str
    status: InvoiceStatus
    currency: str
    total: Decimal
    amount_paid: Decimal
    #: What its allocations and applied credit add up to: what ``amount_paid`` should be.
    received: Decimal

    def describe(self) -> str:
        return _(
            "invoice %(number)s (#%(id)s): status %(status)s, total %(total)s, paid "
            "%(paid)s, payments and credit %(received)s",
            number=self.number or "—",
            id=self.invoice_id,
            status=self.status.value,
            total=_money(self.total, self.currency),
            paid=_money(self.amount_paid, self.currency),
            received=_money(self.received, self.currency),
        )


@dataclass(frozen=True)
class CreditDrift:
    """A client's credit balance that the ledger puts below zero."""

    client_id: int
    currency: str
    balance: Decimal

    def describe(self) -> str:
        return _(
            "client #%(id)s: credit balance %(balance)s",
            id=self.client_id,
            balance=_money(self.balance, self.currency),
        )


@dataclass
class MoneyCheck:
    """What the check looked at and every disagreement it found."""

    invoices: int = 0
    balances: int = 0
    invoice_drift: list[InvoiceDrift] = field(default_factory=list)
    credit_drift: list[CreditDrift] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.invoice_drift and not self.credit_drift

    def lines(self) -> list[str]:
        return [drift.describe() for drift in (*self.invoice_drift, *self.credit_drift)]

    def counts(self) -> dict[str, Any]:
        """The job's stored result (the Scheduled jobs page shows it)."""
        listed = self.lines()[:LISTED]
        return {
            "invoices": self.invoices,
            "balances": self.balances,
            "invoice_drift": len(self.invoice_drift),
            "credit_drift": len(self.credit_drift),
            **({"details": "; ".join(listed)} if listed else {}),
        }


def status_agrees(status: InvoiceStatus, total: Decimal, paid: Decimal) -> bool:
    """Whether ``status`` is what ``_settle`` gives an invoice of ``total`` with ``paid``."""
    if paid < 0 or paid > total:
        return False
    if status is InvoiceStatus.PAID:
        return paid == total
    if status in _OWED and total > 0 and paid == total:
        return False  # all received, still shown as owed: the lost update of issue #14
    if status is InvoiceStatus.PARTIALLY_PAID:
        return paid > 0
    if status in _NOTHING_PAID:
        return paid == 0
    return True  # collections: partly paid or not at all


def _invoices(report: MoneyCheck) -> None:
    allocated = (
        select(
            PaymentAllocation.invoice_id.label("invoice_id"),
            func.sum(PaymentAllocation.amount).label("amount"),
        )
        .group_by(PaymentAllocation.invoice_id)
        .subquery()
    )
    applied = (
        select(
            CreditEntry.invoice_id.label("invoice_id"),
            func.sum(CreditEntry.amount).label("amount"),
        )
        .where(CreditEntry.reason == CreditReason.APPLIED, CreditEntry.invoice_id.is_not(None))
        .group_by(CreditEntry.invoice_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Invoice.id,
            Invoice.number,
            Invoice.status,
            Invoice.currency,
            Invoice.total,
            Invoice.amount_paid,
            allocated.c.amount,
            applied.c.amount,
        )
        .outerjoin(allocated, allocated.c.invoice_id == Invoice.id)
        .outerjoin(applied, applied.c.invoice_id == Invoice.id)
        .where(Invoice.kind != InvoiceKind.CREDIT_NOTE, Invoice.status != InvoiceStatus.DRAFT)
        .order_by(Invoice.id)
        .execution_options(yield_per=5000)
    )
    for invoice_id, number, status, currency, total, paid, by_payments, by_credit in rows:
        report.invoices += 1
        received = (by_payments or Decimal(0)) - (by_credit or Decimal(0))
        if paid != received or not status_agrees(status, total, paid):
            report.invoice_drift.append(
                InvoiceDrift(invoice_id, number or "", status, currency, total, paid, received)
            )


def _balances(report: MoneyCheck) -> None:
    rows = db.session.execute(
        select(CreditEntry.client_id, CreditEntry.currency, func.sum(CreditEntry.amount))
        .group_by(CreditEntry.client_id, CreditEntry.currency)
        .order_by(CreditEntry.client_id, CreditEntry.currency)
    )
    for client_id, currency, balance in rows:
        report.balances += 1
        if balance < 0:
            report.credit_drift.append(CreditDrift(client_id, currency, balance))


def check_money() -> MoneyCheck:
    """Compare every issued invoice and every credit balance with its ledger (reads only)."""
    report = MoneyCheck()
    _invoices(report)
    _balances(report)
    return report


def _staff_addresses() -> list[str]:
    """Active staff who may manage invoices and payments: the people who can put it right."""
    staff = db.session.scalars(select(Staff).where(Staff.is_active.is_(True)).order_by(Staff.id))
    return [member.email for member in staff if member.can(Permission.BILLING_MANAGE)]


def notify_staff(report: MoneyCheck, as_of: date) -> bool:
    """Queue one e-mail (once per day checked) telling billing staff what disagrees; commits.
    Returns whether there was anyone to tell."""
    from portal.messaging.outbox import queue_email
    from portal.messaging.templates import external_url

    addresses = _staff_addresses()
    if report.clean or not addresses:
        return False
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _(
            "Money check %(day)s: %(count)s disagreements",
            day=as_of.isoformat(),
            count=len(report.invoice_drift) + len(report.credit_drift),
        )
        listed = report.lines()
        more = len(listed) - LISTED
        text = "\n".join(
            [
                _(
                    "The nightly money check found stored amounts that disagree with the "
                    "payments and the credit ledger they come from. Nothing was changed; "
                    "check these records and correct them:"
                ),
                "",
                *(f"- {line}" for line in listed[:LISTED]),
                *([_("… and %(more)s more.", more=more)] if more > 0 else []),
                "",
                _("Run `portal billing check` to see the whole list."),
                external_url("admin_jobs.index"),
            ]
        )
    queue_email(
        to=addresses,
        subject=subject,
        text=text,
        headers={"Auto-Submitted": "auto-generated"},
        dedupe_key=f"money-check:{as_of.isoformat()}",
    )
    db.session.commit()
    return True


def nightly_check(as_of: date) -> dict[str, Any]:
    """The ``billing.money_check`` job: check, tell staff about any disagreement, and return
    the figures kept in the job history."""
    report = check_money()
    notify_staff(report, as_of)
    return report.counts()
