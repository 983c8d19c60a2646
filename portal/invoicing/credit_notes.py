"""Credit notes (корректировочный счёт / кредит-нота): the correction document of an issued
invoice, as Russian offices use it.

A credit note is an ``Invoice`` of kind ``credit_note`` that points at the invoice it corrects
(``corrects_id``), with negative lines and a negative total, numbered in its own gapless series
(``CN-<year>``, printed by the ``credit_note_number_format`` setting, default
``К-{year}-{number:06d}``). It is never payable: its status is ``issued``, nothing is ever paid
against it, no reminder or overdue action sees it.

Its lines are the original's lines corrected: the amount staff enter (with VAT, what the
invoice's total goes down by) is spread over what is left of the original's lines in proportion
to their totals (largest share takes the rounding kopeck), and each share is taxed like the line
it corrects (same rate, same "price includes VAT" flag), so the note's VAT is the VAT the
correction takes off. Correcting all that is left mirrors those lines exactly (net, VAT, total;
for a first full correction also quantity and price). Several notes may correct one invoice, never
more than its total in all.

Staff choose what happens to the money (``settlement``):

- ``credit``: it stays with us as the client's credit balance (a ``correction`` credit entry of
  +amount naming the note), which later invoices take;
- ``refund``: it is paid back (a negative ``refund`` payment with the method and reference staff
  give, ``credit_note_id`` naming the note), at most what the client paid on the invoice and did
  not already get back through earlier notes;
- ``invoice``: it comes off what the original still owes (a ``correction`` entry of +amount on the
  note and at once an ``applied`` entry of −amount on the original, whose ``amount_paid`` rises
  and status settles). For a statement the note is the movement; these two entries are internal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from portal import billing
from portal.accounts import audit
from portal.accounts.models import Client
from portal.billing.money import quantum, scale
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.core.transactions import lock_row, unit_of_work
from portal.invoicing import invoices
from portal.invoicing.models import (
    CreditNoteSettlement,
    CreditReason,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentKind,
)
from portal.invoicing.payments import PAYABLE, add_credit
from portal.invoicing.payments import _settle as settle  # the one rule for an invoice's status
from portal.platform import runtime_settings
from portal.platform.hooks import events

DEFAULT_NUMBER_FORMAT = "К-{year}-{number:06d}"
#: The statuses of an invoice a credit note may correct (issued and not cancelled).
CORRECTABLE = (*PAYABLE, InvoiceStatus.PAID, InvoiceStatus.REFUNDED)


class CreditNoteError(invoices.InvoiceError):
    """A credit note that cannot be issued as asked; the message says why."""


def number_format() -> str:
    return runtime_settings.get("credit_note_number_format", DEFAULT_NUMBER_FORMAT)


def take_numbering(issue_date: date) -> invoices.Numbering:
    """The next number of the year's credit-note series (gapless, like invoices')."""
    series = f"CN-{issue_date.year}"
    sequence = invoices.take_numbers(series)
    return invoices.Numbering(
        series, sequence, number_format().format(year=issue_date.year, number=sequence)
    )


def notes_of(invoice: Invoice) -> list[Invoice]:
    """The credit notes issued against ``invoice``, oldest first."""
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.corrects_id == invoice.id, Invoice.kind == InvoiceKind.CREDIT_NOTE)
            .order_by(Invoice.id)
        )
    )


@dataclass(frozen=True)
class Correctable:
    """How far an invoice can still be corrected, and how each settlement is bounded."""

    left: Decimal  # the total less earlier credit notes
    refundable: Decimal  # paid on it in money, less refunds made through its notes
    owed: Decimal  # what it still owes (0 unless awaiting payment)


def correctable(invoice: Invoice, notes: list[Invoice] | None = None) -> Correctable:
    """The limits of a new credit note against ``invoice`` (the admin form shows them)."""
    notes = notes_of(invoice) if notes is None else notes

    def settled(how: CreditNoteSettlement) -> Decimal:
        return sum((-note.total for note in notes if note.settlement is how), Decimal(0))

    zero = billing.round_money(Decimal(0), invoice.currency)
    left = invoice.total + sum((note.total for note in notes), zero)
    paid_in_money = invoice.amount_paid - settled(CreditNoteSettlement.INVOICE)
    refundable = max(zero, min(left, paid_in_money - settled(CreditNoteSettlement.REFUND)))
    owed = max(zero, invoice.balance) if invoice.status in PAYABLE else zero
    return Correctable(max(zero, left), refundable, min(owed, max(zero, left)))


def _remaining_lines(invoice: Invoice, notes: list[Invoice]) -> list[tuple[InvoiceLine, dict]]:
    """Each line of ``invoice`` with what earlier notes left of it (amount, net, tax, total);
    a note's line corrects the original's line at the same position."""
    taken: dict[int, dict[str, Decimal]] = {}
    for note in notes:
        for line in note.lines:
            sums = taken.setdefault(line.position, dict.fromkeys(_FIGURES, Decimal(0)))
            for name in _FIGURES:
                sums[name] += getattr(line, name)
    rows = []
    for line in invoice.lines:
        done = taken.get(line.position, {})
        left = {name: getattr(line, name) + done.get(name, Decimal(0)) for name in _FIGURES}
        rows.append((line, {**left, "untouched": not done}))
    return rows


_FIGURES = ("amount", "net", "tax", "total")


def _shares(amount: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """``amount`` spread over ``weights`` in proportion, adding up to ``amount`` exactly: by
    largest remainder (:func:`portal.billing.allocate`), or, when a discount line makes a weight
    negative, each share rounded half up and the difference on the largest line."""
    if all(weight >= 0 for weight in weights):
        return list(billing.allocate(amount, weights, currency))
    whole = sum(weights, Decimal(0))
    shares = [scale(amount, weight, whole, currency) for weight in weights]
    largest = max(range(len(weights)), key=lambda i: (abs(weights[i]), -i))
    shares[largest] += amount - sum(shares, Decimal(0))
    return shares


def _split(gross: Decimal, percent: Decimal, inclusive: bool, currency: str) -> Decimal:
    """The line amount (price basis) whose total with VAT is ``gross``: ``gross`` itself for a
    price that includes VAT; for VAT on top, the net that adds up to ``gross`` with its own
    rounded VAT (when no net does, by a kopeck, the nearest one: the VAT is then gross − net)."""
    if inclusive or not percent:
        return gross
    sign = -1 if gross < 0 else 1
    target = abs(gross)
    guess = target - scale(target, percent, 100 + percent, currency)
    step = quantum(currency)
    for delta in (0, -1, 1, -2, 2):
        net = guess + delta * step
        if net + scale(net, percent, 100, currency) == target:
            return sign * net
    return sign * guess


def correction_lines(invoice: Invoice, amount: Decimal, notes: list[Invoice]) -> list[InvoiceLine]:
    """The negative lines of a credit note taking ``amount`` (with VAT) off ``invoice``."""
    currency = invoice.currency
    remaining = _remaining_lines(invoice, notes)
    shares = _shares(amount, [left["total"] for _line, left in remaining], currency)
    rows = []
    for (line, left), gross in zip(remaining, shares, strict=True):
        if not gross:
            continue
        if gross == left["total"]:  # all that is left of the line: mirror it exactly
            figures = {name: left[name] for name in _FIGURES}
        else:
            percent = line.tax_percent or Decimal(0)
            base = _split(gross, percent, line.tax_inclusive, currency)
            if line.tax_inclusive:
                tax = scale(base, percent, 100 + percent, currency)
                figures = {"amount": base, "net": base - tax, "tax": tax, "total": base}
            else:
                figures = {"amount": base, "net": base, "tax": gross - base, "total": gross}
        # quantity and price are repeated only where they still multiply to the amount
        mirror = left["untouched"] and gross == left["total"] and not line.discount
        rows.append(
            InvoiceLine(
                position=line.position,
                kind=line.kind,
                description=line.description,
                details=list(line.details),
                period_start=line.period_start,
                period_end=line.period_end,
                quantity=line.quantity if mirror else Decimal(1),
                unit=line.unit,
                unit_price=-line.unit_price if mirror else -figures["amount"],
                discount=Decimal(0),
                tax_percent=line.tax_percent,
                tax_inclusive=line.tax_inclusive,
                **{name: -value for name, value in figures.items()},
            )
        )
    return rows


def _check(
    invoice: Invoice,
    amount: Decimal,
    reason: str,
    settlement: CreditNoteSettlement,
    limits: Correctable,
    reference: str,
) -> None:
    if invoice.kind is not InvoiceKind.INVOICE:
        raise CreditNoteError(_("Only an invoice for services can be corrected by a credit note."))
    if invoice.status not in CORRECTABLE:
        raise CreditNoteError(_("A credit note corrects an issued invoice that is not cancelled."))
    if not reason:
        raise CreditNoteError(_("Say why the invoice is corrected."))
    if amount <= 0:
        raise CreditNoteError(_("The amount of a credit note must be more than zero."))
    if amount > limits.left:
        raise CreditNoteError(
            _(
                "At most %(left)s of invoice %(number)s is left to correct.",
                left=_money(limits.left, invoice.currency),
                number=invoice.number,
            )
        )
    if settlement is CreditNoteSettlement.INVOICE and amount > limits.owed:
        raise CreditNoteError(
            _(
                "Invoice %(number)s owes %(owed)s: only that much can be taken off it.",
                number=invoice.number,
                owed=_money(limits.owed, invoice.currency),
            )
        )
    if settlement is CreditNoteSettlement.REFUND:
        if amount > limits.refundable:
            raise CreditNoteError(
                _(
                    "The client paid %(paid)s on invoice %(number)s that can be refunded: "
                    "refund at most that, or leave the amount as credit.",
                    paid=_money(limits.refundable, invoice.currency),
                    number=invoice.number,
                )
            )
        if not reference:
            raise CreditNoteError(_("A refund needs the reference of its payment order."))


def _money(amount: Decimal, currency: str) -> str:
    from portal.web.formatting import money

    return money(amount, currency)


@unit_of_work()
def issue_credit_note(
    invoice: Invoice,
    amount: Decimal,
    reason: str,
    *,
    today: date,
    settlement: CreditNoteSettlement = CreditNoteSettlement.CREDIT,
    refund_method: str = "bank",
    refund_reference: str = "",
) -> Invoice:
    """Issue a credit note taking ``amount`` (with VAT) off ``invoice`` and settle it as staff
    chose (see the module docstring). One unit of work: the note, its number, the money
    movement and the audit entries commit together or not at all."""
    amount = billing.check_minor_units(amount, invoice.currency)
    # the original's row stays taken until the commit: two notes at once cannot both take
    # what is left to correct
    lock_row(Invoice.__table__, invoice.id)
    db.session.refresh(invoice)
    reason = " ".join(reason.split())
    refund_reference = refund_reference.strip()
    refund_method = refund_method.strip() or "bank"
    notes = notes_of(invoice)
    limits = correctable(invoice, notes)
    _check(invoice, amount, reason, settlement, limits, refund_reference)
    if settlement is CreditNoteSettlement.REFUND and _reference_taken(
        refund_method, refund_reference
    ):
        raise CreditNoteError(
            _(
                "A payment with reference %(reference)s is already recorded.",
                reference=refund_reference,
            )
        )
    client = db.session.get(Client, invoice.client_id)
    note = Invoice(
        client_id=invoice.client_id,
        kind=InvoiceKind.CREDIT_NOTE,
        currency=invoice.currency,
        status=InvoiceStatus.DRAFT,
        created_at=clock().now(),
        corrects_id=invoice.id,
        settlement=settlement,
        notes=reason,
        lines=correction_lines(invoice, amount, notes),
    )
    db.session.add(note)
    invoices.retotal(note)
    db.session.flush()
    values = invoices.issued_values(
        client,
        note.total,
        take_numbering(today),
        issue_date=today,
        due=today,
        issued_at=clock().now(),
        seller=invoices.seller_snapshot(),
    )
    for name, value in values.items():
        setattr(note, name, value)
    note.status = InvoiceStatus.ISSUED
    note.paid_date = None
    from portal.invoicing.stored_documents import queue_renders

    queue_renders([note.id], values["issued_at"])
    _settle_note(client, invoice, note, amount, today, refund_method, refund_reference)
    audit.record(
        "invoice.credit_note",
        "invoice",
        note.id,
        client_id=note.client_id,
        after={
            "number": note.number,
            "corrects": invoice.number,
            "total": str(note.total),
            "tax": str(note.tax),
            "settlement": settlement.value,
            "reason": reason,
        },
    )
    events.fire("invoice_created", invoice=note)
    return note


def _reference_taken(method: str, reference: str) -> bool:
    return (
        db.session.scalar(
            select(Payment.id).where(Payment.method == method, Payment.reference == reference)
        )
        is not None
    )


def _settle_note(
    client: Client,
    invoice: Invoice,
    note: Invoice,
    amount: Decimal,
    today: date,
    method: str,
    reference: str,
) -> None:
    """The money movement of the settlement staff chose (module docstring)."""
    label = _("Credit note %(number)s", number=note.number)
    if note.settlement is CreditNoteSettlement.REFUND:
        refund = Payment(
            client_id=client.id,
            kind=PaymentKind.REFUND,
            method=method,
            reference=reference,
            payment_date=today,
            currency=note.currency,
            amount=-amount,
            description=_(
                "Refund under credit note %(number)s for invoice %(invoice)s",
                number=note.number,
                invoice=invoice.number,
            ),
            credit_note_id=note.id,
            created_at=clock().now(),
        )
        db.session.add(refund)
        db.session.flush()
        audit.record(
            "payment.refund",
            "payment",
            refund.id,
            client_id=client.id,
            after={"amount": str(-amount), "reference": reference, "credit_note": note.number},
        )
        return
    add_credit(
        client,
        amount,
        CreditReason.CORRECTION,
        invoice_id=note.id,
        currency=note.currency,
        description=label,
    )
    if note.settlement is CreditNoteSettlement.INVOICE:
        add_credit(
            client,
            -amount,
            CreditReason.APPLIED,
            invoice_id=invoice.id,
            currency=note.currency,
            description=label,
        )
        before = audit.snapshot(invoice, invoices.INVOICE_FIELDS)
        invoice.amount_paid += amount
        settle(invoice, today)
        audit.record(
            "invoice.credit_applied",
            "invoice",
            invoice.id,
            client_id=invoice.client_id,
            before=before,
            after={"applied": str(amount), "credit_note": note.number, "status": invoice.status},
        )
