"""Statement of account (выписка по счёту / акт сверки): what moved the client's position
over a date range, with the opening balance, a running balance and the closing balance.

Sign convention: a balance is what the client owes the provider; negative means the provider
owes the client (an advance, credit held). The closing balance always equals the client's real
position, :func:`client_position`: what is left to pay on their payable service invoices minus
their credit balance. A property test (tests/integration/test_account_statements.py) holds
that for random sequences of operations.

What is a movement (debit raises what the client owes, credit lowers it):

- a service invoice issued (kind ``INVOICE``, issued and not cancelled): debit of its total.
  An add-funds (top-up) invoice is *not* a charge: paying it is an advance;
- a payment received, whatever it paid (a top-up too): credit;
- a credit note (kind ``CREDIT_NOTE``, negative total), issued and not cancelled: credit of
  ``|total|``;
- a refund paid out (``Payment`` of kind ``REFUND``, negative amount): debit, money went back
  to the client;
- a service invoice whose money was all given back (status ``REFUNDED``): it is no longer owed,
  so its charge is reversed (credit of its total) on the date of the last refund it took;
- a credit balance entry that changes the client's position: ``DOWNGRADE`` and ``MANUAL``, and a
  legacy ``CORRECTION`` that no credit note stands for.

Credit entries that only move money between the credit balance and invoices (``OVERPAYMENT``,
``APPLIED``, ``ADD_FUNDS``, ``REFUND`` to credit, a ``CORRECTION`` settling a credit note, linked
to the note itself or to the invoice a note corrects) are not movements: the payment, the note
or the refund they come from already is one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Response, current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal import billing
from portal.accounts.models import Client
from portal.core.extensions import db
from portal.documents.data import Party, ReconciliationDocument, ReconciliationRow
from portal.documents.labels import LABELS
from portal.documents.render import reconciliation_html, reconciliation_pdf
from portal.invoicing.company import company_details
from portal.invoicing.invoice_documents import company_party
from portal.invoicing.models import (
    CreditEntry,
    CreditReason,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentKind,
)
from portal.invoicing.payments import PAYABLE, credit_balance
from portal.web.csv_export import csv_response
from portal.web.downloads import pdf_response

#: Credit entries that change what the client owes (a legacy CORRECTION only without a note;
#: USAGE: prepaid usage debited from the balance, e.g. rated calls, raises it).
POSITION_REASONS = (
    CreditReason.DOWNGRADE,
    CreditReason.MANUAL,
    CreditReason.CORRECTION,
    CreditReason.USAGE,
)
#: Invoices that never existed for the books: not yet issued, or cancelled.
NOT_ISSUED = (InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED)


class MovementKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    REFUND = "refund"
    INVOICE_REFUNDED = "invoice_refunded"
    CREDIT = "credit"


@dataclass(frozen=True)
class StatementRow:
    """One movement; ``document`` is the invoice number or the payment reference, ``note`` the
    credit entry's reason text. Labels are made by the page (gettext) or the PDF (labels.py)."""

    day: date
    kind: MovementKind
    document: str
    debit: Decimal
    credit: Decimal
    balance: Decimal  # what the client owes after this row (negative: we owe them)
    reason: CreditReason | None = None
    note: str = ""


@dataclass(frozen=True)
class Statement:
    client_id: int
    currency: str
    start: date
    end: date
    opening: Decimal
    rows: tuple[StatementRow, ...]
    debit: Decimal
    credit: Decimal
    closing: Decimal


class StatementError(ValueError):
    """A date range that cannot make a statement; the message says why."""


@dataclass(frozen=True)
class _Move:
    day: date
    #: Within a day: when it was recorded, then documents before money, then by id.
    order: tuple[datetime, int, int]
    kind: MovementKind
    document: str
    amount: Decimal  # + debit, - credit
    reason: CreditReason | None = None
    note: str = ""


#: The order key of a movement recorded at no known moment: last of its day.
LAST = datetime.max.replace(tzinfo=UTC)


def _moment(value: datetime | None) -> datetime:
    if value is None:
        return LAST
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _local_date(moment: datetime) -> date:
    """A ledger timestamp as the provider's business date (a credit entry has no date column)."""
    zone = ZoneInfo(current_app.config["PORTAL"]["default_timezone"])
    return moment.astimezone(zone).date()


def _invoice_moves(invoices: Iterable[Invoice]) -> list[_Move]:
    moves = []
    for invoice in invoices:
        if invoice.status in NOT_ISSUED or invoice.issue_date is None:
            continue
        number = invoice.number or ""
        if invoice.kind is InvoiceKind.CREDIT_NOTE:
            moves.append(
                _Move(
                    invoice.issue_date,
                    (_moment(invoice.issued_at), 1, invoice.id),
                    MovementKind.CREDIT_NOTE,
                    number,
                    -abs(invoice.total),
                )
            )
        elif invoice.kind is InvoiceKind.INVOICE:
            moves.append(
                _Move(
                    invoice.issue_date,
                    (_moment(invoice.issued_at), 0, invoice.id),
                    MovementKind.INVOICE,
                    number,
                    invoice.total,
                )
            )
    return moves


def _refunded_moves(
    invoices: Iterable[Invoice], payments: list[Payment], entries: list[CreditEntry]
) -> list[_Move]:
    """A service invoice whose money was all given back is no longer owed: its charge is
    reversed on the date of the last refund of a payment that paid it."""
    refunded = {
        invoice.id: invoice
        for invoice in invoices
        if invoice.kind is InvoiceKind.INVOICE and invoice.status is InvoiceStatus.REFUNDED
    }
    if not refunded:
        return []
    paid_by: dict[int, set[int]] = {}
    for invoice_id, payment_id in db.session.execute(
        select(PaymentAllocation.invoice_id, PaymentAllocation.payment_id).where(
            PaymentAllocation.invoice_id.in_(refunded)
        )
    ):
        paid_by.setdefault(invoice_id, set()).add(payment_id)
    refunds: dict[int, list[tuple[date, datetime]]] = {}  # payment id -> (day, moment)
    for payment in payments:
        if payment.kind is PaymentKind.REFUND and payment.refund_of_id is not None:
            refunds.setdefault(payment.refund_of_id, []).append(
                (payment.payment_date, _moment(payment.created_at))
            )
    for entry in entries:
        if entry.reason is CreditReason.REFUND and entry.payment_id is not None:
            refunds.setdefault(entry.payment_id, []).append(
                (_local_date(entry.created_at), _moment(entry.created_at))
            )
    moves = []
    for invoice_id, invoice in refunded.items():
        done = [when for pid in paid_by.get(invoice_id, ()) for when in refunds.get(pid, ())]
        day, moment = max(done, default=(invoice.issue_date, LAST))
        if day is None:
            continue
        moves.append(
            _Move(
                day,
                (moment, 2, invoice_id),
                MovementKind.INVOICE_REFUNDED,
                invoice.number or "",
                -invoice.total,
            )
        )
    return moves


def _payment_moves(payments: Iterable[Payment]) -> list[_Move]:
    moves = []
    for payment in payments:
        kind = MovementKind.REFUND if payment.kind is PaymentKind.REFUND else MovementKind.PAYMENT
        # A payment lowers the debt by its amount; a refund (negative amount) raises it.
        moves.append(
            _Move(
                payment.payment_date,
                (_moment(payment.created_at), 3, payment.id),
                kind,
                payment.reference,
                -payment.amount,
            )
        )
    return moves


def _credit_moves(entries: Iterable[CreditEntry], invoices: Iterable[Invoice]) -> list[_Move]:
    """Credit entries that change the position; a CORRECTION settling a credit note is not one
    (linked to the note, as now, or to the invoice a note corrects, as before)."""
    notes = {i.id for i in invoices if i.kind is InvoiceKind.CREDIT_NOTE}
    corrected = {
        i.corrects_id
        for i in invoices
        if i.kind is InvoiceKind.CREDIT_NOTE and i.corrects_id is not None
    }
    moves = []
    for entry in entries:
        if entry.reason not in POSITION_REASONS:
            continue
        if entry.reason is CreditReason.CORRECTION and (
            entry.invoice_id in notes or entry.invoice_id in corrected
        ):
            continue
        moves.append(
            _Move(
                _local_date(entry.created_at),
                (_moment(entry.created_at), 4, entry.id),
                MovementKind.CREDIT,
                "",
                -entry.amount,  # credit given lowers what the client owes
                reason=entry.reason,
                note=entry.description,
            )
        )
    return moves


def _movements(client_id: int, currency: str, until: date) -> list[_Move]:
    """Every movement up to ``until`` (three queries, four with a refunded invoice)."""
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.client_id == client_id, Invoice.currency == currency)
    ).all()
    payments = db.session.scalars(
        select(Payment).where(Payment.client_id == client_id, Payment.currency == currency)
    ).all()
    entries = db.session.scalars(
        select(CreditEntry).where(
            CreditEntry.client_id == client_id, CreditEntry.currency == currency
        )
    ).all()
    moves = (
        _invoice_moves(invoices)
        + _refunded_moves(invoices, list(payments), list(entries))
        + _payment_moves(payments)
        + _credit_moves(entries, invoices)
    )
    return sorted((m for m in moves if m.day <= until), key=lambda m: (m.day, m.order))


def default_range(today: date) -> tuple[date, date]:
    """From the start of the year to today: what an accountant asks for by default."""
    return today.replace(month=1, day=1), today


def statement(client: Client, start: date, end: date, currency: str | None = None) -> Statement:
    """The statement of ``client`` from ``start`` to ``end`` (both included)."""
    if end < start:
        raise StatementError(_("The end of the period is before its start."))
    currency = currency or client.currency
    zero = billing.round_money(Decimal(0), currency)
    opening = zero
    balance = zero
    rows: list[StatementRow] = []
    for move in _movements(client.id, currency, end):
        balance += move.amount
        if move.day < start:
            opening = balance
            continue
        rows.append(
            StatementRow(
                day=move.day,
                kind=move.kind,
                document=move.document,
                debit=billing.round_money(max(move.amount, zero), currency),
                credit=billing.round_money(max(-move.amount, zero), currency),
                balance=billing.round_money(balance, currency),
                reason=move.reason,
                note=move.note,
            )
        )
    return Statement(
        client_id=client.id,
        currency=currency,
        start=start,
        end=end,
        opening=billing.round_money(opening, currency),
        rows=tuple(rows),
        debit=sum((row.debit for row in rows), zero),
        credit=sum((row.credit for row in rows), zero),
        closing=billing.round_money(balance, currency),
    )


def client_position(client_id: int, currency: str) -> Decimal:
    """What the client owes now (negative: what we owe them): the unpaid rest of their payable
    service invoices less their credit balance. A statement's closing balance must equal it."""
    owed = db.session.scalar(
        select(func.sum(Invoice.total - Invoice.amount_paid)).where(
            Invoice.client_id == client_id,
            Invoice.currency == currency,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status.in_(PAYABLE),
        )
    )
    return billing.round_money(owed or Decimal(0), currency) - credit_balance(client_id, currency)


def row_label(row: StatementRow) -> str:
    """What the page and the CSV call a row, in the reader's language."""
    if row.kind is MovementKind.INVOICE:
        return _("Invoice %(number)s", number=row.document)
    if row.kind is MovementKind.CREDIT_NOTE:
        return _("Credit note %(number)s", number=row.document)
    if row.kind is MovementKind.PAYMENT:
        return _("Payment %(reference)s", reference=row.document)
    if row.kind is MovementKind.REFUND:
        return _("Refund %(reference)s", reference=row.document)
    if row.kind is MovementKind.INVOICE_REFUNDED:
        return _("Invoice %(number)s refunded, no longer due", number=row.document)
    if row.reason is CreditReason.DOWNGRADE:
        label = _("Credit for a downgrade")
    elif row.reason is CreditReason.CORRECTION:
        label = _("Correction of the balance")
    elif row.reason is CreditReason.USAGE:
        label = _("Prepaid usage")
    else:
        label = _("Credit balance adjustment")
    return f"{label}: {row.note}" if row.note else label


#: The labels.py key that names each kind of row on the reconciliation statement.
_RECON_KEYS = {
    MovementKind.INVOICE: "recon_invoice",
    MovementKind.CREDIT_NOTE: "recon_credit_note",
    MovementKind.PAYMENT: "recon_payment",
    MovementKind.REFUND: "recon_refund",
    MovementKind.INVOICE_REFUNDED: "recon_invoice_refunded",
}
_RECON_CREDIT_KEYS = {
    CreditReason.DOWNGRADE: "recon_downgrade",
    CreditReason.MANUAL: "recon_manual",
    CreditReason.CORRECTION: "recon_correction",
}


def _document_text(row: StatementRow, language: str) -> str:
    labels = LABELS[language]
    if row.kind is MovementKind.CREDIT:
        return labels[_RECON_CREDIT_KEYS.get(row.reason, "recon_manual")]  # type: ignore[arg-type]
    return labels[_RECON_KEYS[row.kind]].format(number=row.document)


def _buyer(client: Client) -> Party:
    address = ", ".join(part for part in (client.postcode, client.city, client.address) if part)
    return Party(name=client.display_name or "—", inn=client.inn, kpp=client.kpp, address=address)


def reconciliation_document(
    client: Client, start: date, end: date, language: str = "ru"
) -> ReconciliationDocument:
    """The statement as an акт сверки: the provider's details as they are now (the act is
    signed today), the client's current legal details, the seller's side of the table."""
    result = statement(client, start, end)
    company = company_details()
    return ReconciliationDocument(
        seller=company_party(company),
        buyer=_buyer(client),
        period_start=start,
        period_end=end,
        currency=result.currency,
        opening=result.opening,
        rows=tuple(
            ReconciliationRow(row.day, _document_text(row, language), row.debit, row.credit)
            for row in result.rows
        ),
        debit_total=result.debit,
        credit_total=result.credit,
        closing=result.closing,
        language=language,
    )


def reconciliation_pdf_bytes(client: Client, start: date, end: date, language: str = "ru") -> bytes:
    return reconciliation_pdf(reconciliation_document(client, start, end, language))


def reconciliation_page(client: Client, start: date, end: date, language: str = "ru") -> str:
    return reconciliation_html(reconciliation_document(client, start, end, language))


def csv_table(result: Statement) -> tuple[list[str], list[list[object]]]:
    """The statement as spreadsheet rows: the opening balance, the movements, the turnover and
    the closing balance. Amounts stay numbers (the CSV writer prints them with a decimal comma
    for Excel), so the reader can sum them."""
    header = [_("Date"), _("Document"), _("Debit (charged)"), _("Credit (paid)"), _("Balance")]
    rows: list[list[object]] = [[result.start, _("Opening balance"), None, None, result.opening]]
    rows += [
        [row.day, row_label(row), row.debit or None, row.credit or None, row.balance]
        for row in result.rows
    ]
    rows.append([result.end, _("Turnover for the period"), result.debit, result.credit, None])
    rows.append([result.end, _("Closing balance"), None, None, result.closing])
    return header, rows


def download(client: Client, start: date, end: date, as_: str, language: str | None) -> Response:
    """The statement as a file, for the admin and the client area alike: ``csv`` (Excel's
    dialect) or ``pdf`` (the акт сверки, Russian unless ``language`` is "en")."""
    stem = f"{client.id}-{start:%Y%m%d}-{end:%Y%m%d}"
    if as_ == "csv":
        header, rows = csv_table(statement(client, start, end))
        return csv_response(f"statement-{stem}.csv", header, rows)
    language = "en" if language == "en" else "ru"
    return pdf_response(
        reconciliation_pdf_bytes(client, start, end, language), f"reconciliation-{stem}.pdf"
    )
