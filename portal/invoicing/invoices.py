"""Invoices: drafts staff can edit, issuing with a gapless number, cancelling, credit notes.

Lines come from ``portal.billing`` already rounded; this module only persists them and keeps the
invoice's totals equal to the sum of its lines. Numbers are taken by one atomic
``UPDATE ... RETURNING`` on the series counter inside the issuing transaction, so two issues at
once get consecutive numbers and a rolled-back issue leaves no gap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from portal import billing
from portal.accounts import audit
from portal.accounts.models import Client
from portal.core.app_state import clock
from portal.core.clock import today as business_today
from portal.core.extensions import db
from portal.core.transactions import lock_row, savepoint, unit_of_work
from portal.invoicing.company import company_details
from portal.invoicing.models.invoice import (
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
)
from portal.platform import runtime_settings
from portal.platform.hooks import events
from portal.web.paging import Page, keyset_page

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
#: What the audit entries of an invoice record.
LOGGED_FIELDS = {"invoice.create": ("total", "currency"), "invoice.issue": INVOICE_FIELDS}
#: A ``Client`` model or a row of its columns (the billing run reads rows).
ClientData = Any


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


def retotal(invoice: Invoice) -> None:
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
    audit.add(audit_entry("invoice.create", invoice.id, _logged(invoice, "invoice.create")))
    events.fire("invoice_created", invoice=invoice)
    return invoice


def audit_entry(
    action: str, invoice_id: int, invoice: Mapping[str, Any], *, system: str | None = None
) -> dict[str, Any]:
    """The ``invoice.create`` or ``invoice.issue`` audit entry of an invoice whose columns are
    ``invoice``: the same for an invoice made by hand and one the billing run wrote (``system``
    names the run)."""
    return audit.entry(
        action,
        "invoice",
        invoice_id,
        client_id=invoice["client_id"],
        after={name: invoice[name] for name in LOGGED_FIELDS[action]},
        system=system,
    )


def _logged(invoice: Invoice, action: str) -> dict[str, Any]:
    return audit.snapshot(invoice, ("client_id", *LOGGED_FIELDS[action]))


@unit_of_work()
def open_draft(client: Client) -> Invoice:
    """An empty draft staff then fill in line by line."""
    return create_draft(client)


@unit_of_work()
def add_manual_line(
    invoice: Invoice,
    description: str,
    unit_price: Decimal,
    quantity: Decimal = Decimal(1),
    *,
    period: billing.Period | None = None,
    line_tax: billing.LineTax | None = None,
    inclusive: bool = False,
) -> None:
    """A line staff type in on a draft; a negative price makes a discount or correction line
    (taxed like the others, without a period).

    ``line_tax=None`` taxes it at the client's rate on the invoice's tax date (today for a
    draft, which is issued on the day it is sent), with ``inclusive`` saying whether the price
    includes that tax: a VAT-paying client's manual line is never "без НДС" by omission, a
    tax-exempt client's is. Pass ``billing.NO_TAX`` for a line without VAT."""
    if line_tax is None:
        line_tax = _client_line_tax(invoice, inclusive)
    if unit_price < 0:
        line = discount_line(description, -unit_price * quantity, invoice.currency, line_tax)
    else:
        line = billing.charge_line(
            description,
            unit_price,
            invoice.currency,
            quantity=quantity,
            period=period,
            line_tax=line_tax,
        )
    add_lines(invoice, [(line, None)])


def _client_line_tax(invoice: Invoice, inclusive: bool) -> billing.LineTax:
    """The tax of a manual line at the client's rate on the invoice's tax date."""
    from portal.catalog import tax

    client = db.session.get(Client, invoice.client_id)
    tax_date = invoice.tax_date or invoice.issue_date or business_today()
    return tax.line_tax(client, tax_date=tax_date, inclusive=inclusive)


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
    retotal(invoice)


@unit_of_work()
def remove_line(invoice: Invoice, line_id: int) -> None:
    _require_draft(invoice)
    invoice.lines = [line for line in invoice.lines if line.id != line_id]
    retotal(invoice)


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


class Numbering(NamedTuple):
    """An issued invoice's place in its series: ``series``, ``sequence`` and the printed
    ``number``."""

    series: str
    sequence: int
    number: str


def take_numbering(issue_date: date, count: int = 1) -> list[Numbering]:
    """Numbers for ``count`` invoices issued on ``issue_date``, taken in one block from the
    year's series (gapless: see :func:`take_numbers`) and formatted by the setting."""
    series = str(issue_date.year)
    first = take_numbers(series, count)
    pattern = number_format()
    return [
        Numbering(series, sequence, pattern.format(year=issue_date.year, number=sequence))
        for sequence in range(first, first + count)
    ]


def due_days_for(client: ClientData) -> int:
    """Days to pay: the client's deferral (payment terms) or the ``invoice_due_days`` setting."""
    if client.payment_terms_days is not None:
        return client.payment_terms_days
    return int(runtime_settings.get("invoice_due_days", DEFAULT_DUE_DAYS))


def due_date(
    client: ClientData,
    issue_date: date,
    *,
    due_days: int | None = None,
    period_start: date | None = None,
) -> date:
    """When an invoice issued on ``issue_date`` is due: after ``due_days`` when given (a credit
    note is due at once), else after the client's payment terms (deferral); a renewal without
    terms when its period starts (never before the invoice); anything else after the
    ``invoice_due_days`` setting."""
    if due_days is None and client.payment_terms_days is None and period_start is not None:
        return max(issue_date, period_start)
    days = due_days if due_days is not None else due_days_for(client)
    return issue_date + timedelta(days=days)


def buyer_snapshot(client: ClientData) -> dict[str, Any]:
    """The client's details as they are now, frozen on the invoice (documents print them even
    after the client changes name or bank). ``client`` is a model or a row of its columns."""
    return audit.snapshot(client, BUYER_FIELDS)


def seller_snapshot() -> dict[str, str]:
    """The provider's own details as they are now, frozen on the invoice like the buyer's."""
    return company_details()


def issued_values(
    client: ClientData,
    total: Decimal,
    numbering: Numbering,
    *,
    issue_date: date,
    due: date,
    issued_at: datetime,
    seller: Mapping[str, str],
) -> dict[str, Any]:
    """The columns issuing sets on a draft: the one definition of an issued invoice, applied
    to a model by :func:`issue_invoice` and written in bulk by the billing run."""
    paid = total <= 0
    return {
        "status": InvoiceStatus.PAID if paid else InvoiceStatus.UNPAID,
        "series": numbering.series,
        "sequence": numbering.sequence,
        "number": numbering.number,
        "issue_date": issue_date,
        "tax_date": issue_date,
        "due_date": due,
        "paid_date": issue_date if paid else None,
        "issued_at": issued_at,
        "buyer": buyer_snapshot(client),
        "seller": dict(seller),
    }


def issue_invoice(
    invoice: Invoice, *, today: date, due_days: int | None = None, commit: bool = True
) -> Invoice:
    """Give the draft its number, freeze the buyer's and seller's details, make it payable.
    One unit of work, unless ``commit=False`` (it then joins the caller's transaction, e.g. a
    late fee that queues its mail in the same transaction)."""
    with unit_of_work() if commit else nullcontext():
        return _issue(invoice, today, due_days)


def _issue(invoice: Invoice, today: date, due_days: int | None) -> Invoice:
    _require_draft(invoice)
    if not invoice.lines:
        raise InvoiceError(_("An invoice needs at least one line."))
    client = db.session.get(Client, invoice.client_id)
    (numbering,) = take_numbering(today)
    values = issued_values(
        client,
        invoice.total,
        numbering,
        issue_date=today,
        due=due_date(client, today, due_days=due_days),
        issued_at=clock().now(),
        seller=seller_snapshot(),
    )
    for name, value in values.items():
        setattr(invoice, name, value)
    audit.add(audit_entry("invoice.issue", invoice.id, _logged(invoice, "invoice.issue")))
    from portal.invoicing.stored_documents import queue_renders

    queue_renders([invoice.id], values["issued_at"])
    events.fire("invoice_issued", invoice=invoice)
    return invoice


@unit_of_work()
def issue_top_up(client: Client, amount: Decimal) -> Invoice:
    """An issued invoice for adding ``amount`` to the client's credit balance (credited when
    it is paid), dated and numbered on the provider's business day."""
    line = billing.charge_line(_("Adding funds to the account"), amount, client.currency)
    draft = create_draft(client, [(line, None)], kind=InvoiceKind.ADD_FUNDS)
    return issue_invoice(draft, today=business_today())


def cancel_invoice(invoice: Invoice) -> None:
    """Cancel a draft or an unpaid invoice; its number stays used (and visible) for the books.
    An invoice with credit notes is not cancelled: the notes already count against it. The
    row is locked first: a payment arriving at the same moment is either seen or waits."""
    lock_row(Invoice.__table__, invoice.id)
    db.session.refresh(invoice, ["status", "amount_paid"])
    if invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.UNPAID):
        raise InvoiceError(_("Only drafts and unpaid invoices can be cancelled."))
    corrected = select(Invoice.id).where(Invoice.corrects_id == invoice.id).limit(1)
    if db.session.scalar(corrected) is not None:
        raise InvoiceError(
            _(
                "Invoice %(number)s has credit notes: it cannot be cancelled.",
                number=invoice.number,
            )
        )
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


def client_invoice_summary(client_id: int, currency: str) -> dict[str, object]:
    """Counts and sums by status, income and credit balance, for the client card (3 queries).
    Credit notes are not invoices: they are in none of the counts."""
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
        "by_status": {
            status: by_status.get(status, (0, zero))
            for status in InvoiceStatus
            if status is not InvoiceStatus.ISSUED  # credit notes' own status: not invoices
        },
        "income": income or zero,
        "credit": credit_balance(client_id, currency),
    }


def client_invoices(
    client_id: int, args: Mapping[str, str] | None = None, per_page: int = 50
) -> Page:
    """One page of the client's invoices, newest first, for the client card (two queries, a
    keyset page: docs/performance.md); ``args`` the paging arguments (the request's)."""
    return keyset_page(
        select(Invoice).where(Invoice.client_id == client_id),
        id_column=Invoice.id,
        per_page=per_page,
        args=args,
    )


def overdue_count(today: date) -> int:
    """Unpaid or partly paid invoices past their due date (the dashboard counter).

    The sum of the ``invoices_open`` buckets of ``dashboard_count`` due before ``today``: one row
    per due date, kept by triggers on ``invoice`` (migration 0036), so the cost follows the
    number of distinct due dates, not of invoices (docs/development.md, "Dashboard figures").
    """
    from sqlalchemy import func

    from portal.platform.models import DashboardCount

    return (
        db.session.scalar(
            select(func.sum(DashboardCount.value)).where(
                DashboardCount.counter == "invoices_open", DashboardCount.bucket < today
            )
        )
        or 0
    )
