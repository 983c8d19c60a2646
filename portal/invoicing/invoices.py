"""Invoices: drafts staff can edit, issuing with a gapless number, cancelling, credit notes.

Lines come from ``portal.billing`` already rounded; this module only persists them and keeps the
invoice's totals equal to the sum of its lines. Numbers are taken by one atomic
``UPDATE ... RETURNING`` on the series counter inside the issuing transaction, so two issues at
once get consecutive numbers and a rolled-back issue leaves no gap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from portal import billing
from portal.accounts import audit
from portal.accounts.models import Client
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.core.transactions import savepoint
from portal.invoicing.models.invoice import (
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
)
from portal.platform import runtime_settings
from portal.platform.hooks import events

DEFAULT_NUMBER_FORMAT = "{year}-{number:06d}"
DEFAULT_DUE_DAYS = 10
BUYER_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "address",
    "city",
    "region",
    "postcode",
    "country",
    "legal_type",
    "inn",
    "kpp",
    "bank_name",
    "bank_bic",
    "bank_account",
    "bank_corr_account",
)
INVOICE_FIELDS = ("status", "number", "total", "amount_paid", "due_date")


class InvoiceError(ValueError):
    """Something the user asked for that the invoice's state does not allow."""


def _line_row(position: int, line: billing.InvoiceLine, service_id: int | None) -> InvoiceLine:
    period = line.period
    return InvoiceLine(
        position=position,
        kind=line.kind.value,
        description=line.description,
        details=list(line.details),
        service_id=service_id,
        period_start=period.start if period else None,
        period_end=period.end if period else None,
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount=line.discount,
        amount=line.amount,
        # 0 % is stored as no VAT (None): documents print 'Без налога (НДС)' for it
        tax_percent=line.line_tax.percent or None,
        tax_inclusive=line.line_tax.inclusive,
        net=line.net,
        tax=line.tax,
        total=line.total,
    )


def discount_line(
    description: str, amount: Decimal, currency: str, line_tax: billing.LineTax = billing.NO_TAX
) -> billing.InvoiceLine:
    """A negative line staff add by hand (a discount, a correction), taxed like the others.

    ``portal.billing`` refuses negative prices on purpose, so the line is priced positive and
    then turned round as a whole: every figure keeps its single rounding.
    """
    line = billing.charge_line(description, amount, currency, line_tax=line_tax)
    return dataclasses.replace(
        line,
        unit_price=-line.unit_price,
        list_amount=-line.list_amount,
        amount=-line.amount,
        net=-line.net,
        tax=-line.tax,
        total=-line.total,
    )


def _retotal(invoice: Invoice) -> None:
    """Totals are always the sums of the lines: nothing rounded twice."""
    zero = billing.round_money(Decimal(0), invoice.currency)
    invoice.subtotal = sum((line.net for line in invoice.lines), zero)
    invoice.discount = sum((line.discount for line in invoice.lines), zero)
    invoice.tax = sum((line.tax for line in invoice.lines), zero)
    invoice.total = sum((line.total for line in invoice.lines), zero)


def create_draft(
    client: Client,
    lines: Iterable[tuple[billing.InvoiceLine, int | None]] = (),
    *,
    currency: str | None = None,
    kind: InvoiceKind = InvoiceKind.INVOICE,
    notes: str = "",
) -> Invoice:
    """A draft for ``client`` with ``(line, service_id)`` pairs; sends nothing, has no number."""
    invoice = Invoice(
        client_id=client.id,
        kind=kind,
        currency=currency or client.currency,
        status=InvoiceStatus.DRAFT,
        created_at=clock().now(),
        notes=notes,
    )
    db.session.add(invoice)
    add_lines(invoice, lines)
    db.session.flush()
    audit.record(
        "invoice.create",
        "invoice",
        invoice.id,
        client_id=client.id,
        after={"total": str(invoice.total), "currency": invoice.currency},
    )
    events.fire("invoice_created", invoice=invoice)
    return invoice


def add_lines(invoice: Invoice, lines: Iterable[tuple[billing.InvoiceLine, int | None]]) -> None:
    _require_draft(invoice)
    position = max((line.position for line in invoice.lines), default=0)
    for line, service_id in lines:
        if line.currency != invoice.currency:
            raise InvoiceError(
                _(
                    "The line is in %(line)s but the invoice is in %(invoice)s.",
                    line=line.currency,
                    invoice=invoice.currency,
                )
            )
        position += 1
        invoice.lines.append(_line_row(position, line, service_id))
    _retotal(invoice)


def remove_line(invoice: Invoice, line_id: int) -> None:
    _require_draft(invoice)
    invoice.lines = [line for line in invoice.lines if line.id != line_id]
    _retotal(invoice)


def _require_draft(invoice: Invoice) -> None:
    if invoice.status is not InvoiceStatus.DRAFT:
        raise InvoiceError(
            _(
                "Invoice %(number)s is issued and cannot be edited; issue a credit note instead.",
                number=invoice.number,
            )
        )


def take_numbers(series: str, count: int = 1) -> int:
    """Take ``count`` consecutive numbers of ``series`` atomically and return the first.

    The counter row stays locked until the transaction ends, so the numbers are gapless: a
    rollback gives them back, and the next issuer waits for the commit.
    """
    take = (
        update(InvoiceCounter)
        .where(InvoiceCounter.series == series)
        .values(next_number=InvoiceCounter.next_number + count)
        .returning(InvoiceCounter.next_number)
    )
    taken = db.session.execute(take).scalar_one_or_none()
    if taken is None:
        try:
            with savepoint():
                db.session.execute(insert(InvoiceCounter).values(series=series, next_number=1))
        except IntegrityError:
            pass  # another transaction created the series first; its row is locked now
        taken = db.session.execute(take).scalar_one()
    return taken - count


def number_format() -> str:
    return runtime_settings.get("invoice_number_format", DEFAULT_NUMBER_FORMAT)


def due_days_for(client: Client) -> int:
    """Days to pay: the client's deferral (payment terms) or the ``invoice_due_days`` setting."""
    if client.payment_terms_days is not None:
        return client.payment_terms_days
    return int(runtime_settings.get("invoice_due_days", DEFAULT_DUE_DAYS))


def issue_invoice(
    invoice: Invoice, *, today: date, due_days: int | None = None, commit: bool = True
) -> Invoice:
    """Give the draft its number, freeze the buyer's details, make it payable. Commits, unless
    ``commit=False`` (it then joins the caller's transaction, e.g. a late fee that queues its
    mail in the same transaction)."""
    _require_draft(invoice)
    if not invoice.lines:
        raise InvoiceError(_("An invoice needs at least one line."))
    client = db.session.get(Client, invoice.client_id)
    days = due_days if due_days is not None else due_days_for(client)
    series = str(today.year)
    number = take_numbers(series)
    invoice.series, invoice.sequence = series, number
    invoice.number = number_format().format(year=today.year, number=number)
    invoice.issue_date = invoice.tax_date = today
    invoice.due_date = today + timedelta(days=days)
    invoice.issued_at = clock().now()
    invoice.buyer = audit.snapshot(client, BUYER_FIELDS)
    invoice.status = InvoiceStatus.UNPAID if invoice.total > 0 else InvoiceStatus.PAID
    if invoice.status is InvoiceStatus.PAID:
        invoice.paid_date = today
    audit.record(
        "invoice.issue",
        "invoice",
        invoice.id,
        client_id=invoice.client_id,
        after=audit.snapshot(invoice, INVOICE_FIELDS),
    )
    events.fire("invoice_issued", invoice=invoice)
    if commit:
        db.session.commit()
    return invoice


def cancel_invoice(invoice: Invoice) -> None:
    """Cancel a draft or an unpaid invoice; its number stays used (and visible) for the books."""
    if invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.UNPAID):
        raise InvoiceError(_("Only drafts and unpaid invoices can be cancelled."))
    before = audit.snapshot(invoice, INVOICE_FIELDS)
    invoice.status = InvoiceStatus.CANCELLED
    audit.record(
        "invoice.cancel",
        "invoice",
        invoice.id,
        client_id=invoice.client_id,
        before=before,
        after=audit.snapshot(invoice, INVOICE_FIELDS),
    )
    db.session.commit()


def credit_note(invoice: Invoice, amount: Decimal, reason: str, *, today: date) -> Invoice:
    """Issue a credit note of ``amount`` against an issued invoice: its own number, a negative
    total, and the amount added to the client's credit balance (where the next invoice takes it
    from)."""
    from portal.invoicing.models.payment import CreditReason
    from portal.invoicing.payments import add_credit

    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED):
        raise InvoiceError(_("A credit note corrects an issued invoice."))
    amount = billing.check_minor_units(amount, invoice.currency)
    if amount <= 0 or amount > invoice.total:
        raise InvoiceError(
            _("The credit note must be more than zero and at most the invoice total.")
        )
    client = db.session.get(Client, invoice.client_id)
    line = discount_line(
        _("Correction of invoice %(number)s: %(reason)s", number=invoice.number, reason=reason),
        amount,
        invoice.currency,
    )
    note = create_draft(
        client, [(line, None)], currency=invoice.currency, kind=InvoiceKind.CREDIT_NOTE
    )
    note.corrects_id = invoice.id
    add_credit(client, amount, CreditReason.CORRECTION, invoice_id=invoice.id, description=reason)
    return issue_invoice(note, today=today, due_days=0)


def client_invoice_summary(client_id: int, currency: str) -> dict[str, object]:
    """Counts and sums by status, income and credit balance, for the client card (3 queries)."""
    from sqlalchemy import func

    from portal.invoicing.models.payment import Payment
    from portal.invoicing.payments import credit_balance

    rows = db.session.execute(
        select(Invoice.status, func.count(Invoice.id), func.sum(Invoice.total))
        .where(Invoice.client_id == client_id, Invoice.kind != InvoiceKind.CREDIT_NOTE)
        .group_by(Invoice.status)
    ).all()
    zero = billing.round_money(Decimal(0), currency)
    by_status = {status: (count, total or zero) for status, count, total in rows}
    income = db.session.scalar(
        select(func.sum(Payment.amount)).where(
            Payment.client_id == client_id, Payment.currency == currency
        )
    )
    return {
        "by_status": {status: by_status.get(status, (0, zero)) for status in InvoiceStatus},
        "income": income or zero,
        "credit": credit_balance(client_id, currency),
    }


def overdue_count(today: date) -> int:
    """Unpaid or partly paid invoices past their due date (the dashboard counter)."""
    from sqlalchemy import func

    return (
        db.session.scalar(
            select(func.count(Invoice.id)).where(
                Invoice.status.in_((InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID)),
                Invoice.due_date < today,
            )
        )
        or 0
    )
