"""Payments: recording money received, settling invoices, the credit balance, refunds.

A payment is idempotent by its reference in normal form (portal/invoicing/payment_references.py):
the bank statement imported twice, a gateway callback delivered twice, or a payment order typed
by staff and then imported records one payment. Money beyond what the chosen invoices
owe goes to the client's credit balance, which is a ledger (``credit_entry``) summed on read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import Row, String, func, insert, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import billing
from portal.accounts import audit
from portal.accounts.models import Client
from portal.core.app_state import clock
from portal.core.clock import today
from portal.core.extensions import db
from portal.core.transactions import lock_row, savepoint
from portal.invoicing import payment_references
from portal.invoicing.models.invoice import Invoice, InvoiceKind, InvoiceStatus
from portal.invoicing.models.payment import (
    CreditEntry,
    CreditReason,
    Payment,
    PaymentAllocation,
    PaymentKind,
)
from portal.invoicing.payment_references import PaymentReference
from portal.messaging import templates
from portal.platform.hooks import events
from portal.web.paging import Page, offset_page

PAYABLE = (InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.COLLECTIONS)


class PaymentError(ValueError):
    """A payment that cannot be taken as asked; the message says why."""


def credit_balance(client_id: int, currency: str) -> Decimal:
    total = db.session.scalar(
        select(func.sum(CreditEntry.amount)).where(
            CreditEntry.client_id == client_id, CreditEntry.currency == currency
        )
    )
    return billing.round_money(total or Decimal(0), currency)


def add_credit(
    client: Client,
    amount: Decimal,
    reason: CreditReason,
    *,
    payment_id: int | None = None,
    invoice_id: int | None = None,
    description: str = "",
    currency: str | None = None,
) -> CreditEntry:
    """Move the credit balance by ``amount`` (negative uses credit); joins the transaction."""
    entry = CreditEntry(
        client_id=client.id,
        currency=currency or client.currency,
        amount=amount,
        reason=reason,
        payment_id=payment_id,
        invoice_id=invoice_id,
        description=description,
        created_at=clock().now(),
    )
    db.session.add(entry)
    return entry


def grant_credit(
    client: Client, amount: Decimal, *, description: str, currency: str | None = None
) -> Decimal:
    """Give ``client`` credit that no payment brought (a goodwill credit, a provider module's
    compensation for an outage): the ledger entry and its audit entry, committed together.
    Returns the new credit balance in that currency."""
    currency = currency or client.currency
    amount = billing.check_minor_units(amount, currency)
    if amount <= 0:
        raise PaymentError(_("A credit must be more than zero."))
    description = " ".join(description.split())
    if not description:
        raise PaymentError(_("Say why the credit is given."))
    add_credit(client, amount, CreditReason.MANUAL, description=description, currency=currency)
    audit.record(
        "credit.add",
        "client",
        client.id,
        client_id=client.id,
        after={"amount": str(amount), "currency": currency, "description": description},
    )
    db.session.commit()
    return credit_balance(client.id, currency)


def use_credits(debits: Mapping[int, Decimal], *, description: str) -> dict[int, Decimal]:
    """Take prepaid usage (calls rated from a prepaid balance) from several clients' credit
    balances at once, in the caller's transaction: ``debits`` maps a client id to an amount in
    that client's currency. The balance may go below zero (a call that happened is charged).
    The clients' rows are locked in id order (:func:`lock_credit`, so two batches never
    deadlock), the ledger entries written with one executemany and the new balances read with
    one query: a provider module debits thousands of clients per batch of calls. No audit entry
    per debit; the module's own rows say what each was for. Returns the new balances by client."""
    description = " ".join(description.split())
    currencies = dict(
        db.session.execute(
            select(Client.id, Client.currency).where(Client.id.in_(list(debits)))
        ).all()
    )
    entries = []
    moment = clock().now()
    for client_id in sorted(debits):
        currency = currencies[client_id]
        amount = billing.check_minor_units(debits[client_id], currency)
        if amount <= 0:
            raise PaymentError(_("A charge must be more than zero."))
        entries.append(
            {
                "client_id": client_id,
                "currency": currency,
                "amount": -amount,
                "reason": CreditReason.USAGE,
                "description": description,
                "created_at": moment,
            }
        )
    if not entries:
        return {}
    _lock_credits(sorted(debits))
    db.session.execute(insert(CreditEntry), entries)
    totals = db.session.execute(
        select(CreditEntry.client_id, CreditEntry.currency, func.sum(CreditEntry.amount))
        .where(CreditEntry.client_id.in_(list(debits)))
        .group_by(CreditEntry.client_id, CreditEntry.currency)
    )
    return {
        client_id: billing.round_money(total, currency)
        for client_id, currency, total in totals
        if currency == currencies[client_id]
    }


def _lock_credits(client_ids: list[int]) -> None:
    """:func:`lock_credit` for many clients in one statement: on PostgreSQL the rows in id
    order (``FOR UPDATE`` takes the lock an update takes; two batches never deadlock), on
    SQLite the write transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(Client.id).where(Client.id.in_(client_ids)).order_by(Client.id).with_for_update()
        ).all()
    else:
        lock_credit(client_ids[0])


def lock_invoice(invoice: Invoice) -> None:
    """Take ``invoice``'s row for this transaction and read its status and paid amount afresh:
    two payments (or a payment and a credit application) at the same moment each add their
    share to what the other has written, never to the figure both read before (a lost update
    left an invoice "partly paid" with all its money received). See docs/development.md,
    "Transactions"; ``portal billing check`` finds an invoice that disagrees anyway."""
    lock_row(Invoice.__table__, invoice.id)
    db.session.refresh(invoice, ["status", "amount_paid", "paid_date"])


def _settle(invoice: Invoice, today: date) -> None:
    """The invoice's status from what has been paid against it."""
    if invoice.amount_paid >= invoice.total:
        became_paid = invoice.status is not InvoiceStatus.PAID
        invoice.status = InvoiceStatus.PAID
        invoice.paid_date = invoice.paid_date or today
        if became_paid:
            # In this transaction, the built-in reactions first (paid upgrades apply, paid
            # orders are queued for provisioning, services suspended for non-payment come
            # back: portal/orders/builtin_hooks.py, portal/invoicing/builtin_hooks.py), then
            # the plugins; none of them can undo the payment.
            events.fire("invoice_paid", invoice=invoice)
    elif invoice.amount_paid > 0:
        invoice.status = InvoiceStatus.PARTIALLY_PAID
        invoice.paid_date = None
    elif invoice.status is InvoiceStatus.PAID or invoice.status is InvoiceStatus.PARTIALLY_PAID:
        invoice.status = InvoiceStatus.UNPAID
        invoice.paid_date = None


def _payable(invoice: Invoice, client_id: int, currency: str) -> None:
    if invoice.client_id != client_id:
        raise PaymentError(
            _("Invoice %(number)s belongs to another client.", number=invoice.number)
        )
    if invoice.status not in PAYABLE:
        raise PaymentError(_("Invoice %(number)s is not awaiting payment.", number=invoice.number))
    if invoice.currency != currency:
        raise PaymentError(
            _(
                "Invoice %(number)s is in %(currency)s.",
                number=invoice.number,
                currency=invoice.currency,
            )
        )


def record_payment(
    client: Client,
    *,
    amount: Decimal,
    method: str,
    reference: str | PaymentReference,
    payment_date: date,
    invoices: Sequence[Invoice] = (),
    currency: str | None = None,
    description: str = "",
) -> Payment:
    """Record money received and settle ``invoices`` in the order given; the rest is credit.

    Returns the existing payment, changing nothing, if the same payment was recorded before
    (:func:`recorded_payment`); the payment it inserts has ``recorded_now`` set. Commits.
    """
    currency = currency or client.currency
    amount = billing.check_minor_units(amount, currency)
    if amount <= 0:
        raise PaymentError(_("A payment must be more than zero."))
    if isinstance(reference, str):
        reference = payment_references.parse(method, reference)
    if not reference.text:
        raise PaymentError(_("A payment needs the reference of its payment order or transaction."))
    existing = recorded_payment(method, reference, amount, payment_date, client)
    if existing is not None:
        existing.recorded_now = False  # found, not recorded, by this call
        return existing
    for invoice in invoices:
        _payable(invoice, client.id, currency)
    payment = Payment(
        client_id=client.id,
        method=method,
        reference=reference.text,
        reference_key=reference.key,
        payment_date=payment_date,
        currency=currency,
        amount=amount,
        description=description,
        created_at=clock().now(),
    )
    try:
        with savepoint():
            db.session.add(payment)
    except IntegrityError:
        db.session.rollback()
        existing = recorded_payment(method, reference, amount, payment_date, client)
        if existing is None:
            raise
        existing.recorded_now = False  # recorded concurrently by another worker
        return existing
    payment.recorded_now = True
    remaining = amount
    for invoice in sorted(invoices, key=lambda invoice: invoice.id):  # one lock order for all
        lock_invoice(invoice)
    for invoice in invoices:
        # paid in full (or cancelled) by someone else since the caller looked: the money is
        # the client's credit, never a second payment of the same invoice
        share = min(remaining, invoice.balance) if invoice.status in PAYABLE else 0
        if share <= 0:
            continue
        payment.allocations.append(PaymentAllocation(invoice_id=invoice.id, amount=share))
        invoice.amount_paid += share
        remaining -= share
        if invoice.kind is InvoiceKind.ADD_FUNDS:
            add_credit(
                client, share, CreditReason.ADD_FUNDS, invoice_id=invoice.id, currency=currency
            )
        _settle(invoice, payment_date)
    db.session.flush()
    if remaining > 0:
        add_credit(
            client,
            remaining,
            CreditReason.OVERPAYMENT,
            payment_id=payment.id,
            currency=currency,
            description=payment.reference,
        )
    if client.email:
        _queue_received_email(client, payment, invoices, remaining)
    audit.record(
        "payment.create",
        "payment",
        payment.id,
        client_id=client.id,
        after={
            "amount": str(amount),
            "method": method,
            "reference": payment.reference,
            "invoices": [invoice.number for invoice in invoices],
            "to_credit": str(remaining),
        },
    )
    events.fire("payment_received", payment=payment)
    db.session.commit()
    return payment


def _queue_received_email(
    client: Client, payment: Payment, invoices: Sequence[Invoice], to_credit: Decimal
) -> None:
    """The ``payment_received`` mail, once per payment; joins the transaction."""
    allocated = {allocation.invoice_id for allocation in payment.allocations}
    templates.send(
        "payment_received",
        client,
        dedupe_key=f"payment-received:{payment.id}",
        payment=payment,
        invoices=[invoice for invoice in invoices if invoice.id in allocated],
        to_credit=to_credit,
    )


def recorded_payment(
    method: str,
    reference: PaymentReference,
    amount: Decimal,
    received: date,
    client: Client | None = None,
) -> Payment | None:
    """The payment already recorded for ``reference``, if any: the same key or text, else
    (docs/invoices-and-payments.md, "Payment references") the one payment order of ``method``
    with the same number and amount whose date and payer do not contradict this one's — staff
    typed "701" with its date, the statement then brings "п/п 701 от 03.12.2026 ИНН …". Each
    payment must have arrived within ``ORDER_TRAVEL`` of the other's order date.
    ``client`` is who the new payment would belong to: its INN stands in for an unknown payer,
    and where no INN says who paid, only that client's payments are taken.
    """
    same = [Payment.reference == reference.text]
    if reference.key is not None:
        same.append(Payment.reference_key == reference.key)
    found = db.session.scalar(select(Payment).where(Payment.method == method, or_(*same)))
    if found is not None or not reference.number:
        return found
    around = reference.day or received
    rows = db.session.execute(
        select(Payment, Client.inn)
        .join(Client, Client.id == Payment.client_id)
        .where(
            Payment.method == method,
            Payment.kind == PaymentKind.PAYMENT,
            Payment.amount == amount,
            Payment.payment_date.between(
                around - payment_references.ORDER_TRAVEL, around + payment_references.ORDER_TRAVEL
            ),
            or_(
                Payment.reference_key.startswith(f"{reference.number}/", autoescape=True),
                Payment.reference_key.is_(None),  # typed without the order's date
            ),
        )
    ).all()
    inn = client.inn if client is not None else ""
    matches = []
    for payment, payment_inn in rows:
        theirs = payment_references.stored(method, payment.reference, payment.reference_key)
        payer_unknown = not (reference.payer_inn or inn) or not (theirs.payer_inn or payment_inn)
        if payer_unknown and client is not None and payment.client_id != client.id:
            continue  # nothing says another client's payment is this one
        if (
            reference.same_order(theirs, inn or "", payment_inn or "")
            and payment_references.arrived(reference, payment.payment_date)
            and payment_references.arrived(theirs, received)
        ):
            matches.append(payment)
    return matches[0] if len(matches) == 1 else None


class InvoicePayment(NamedTuple):
    """A payment as one invoice sees it: ``amount`` went to this invoice, ``elsewhere`` to
    other invoices, ``to_credit`` (the rest) to the credit balance. A mass payment of 25 000
    that paid 500 of this invoice shows 500 here, not 25 000."""

    payment: Payment
    amount: Decimal
    elsewhere: Decimal
    to_credit: Decimal


def invoice_payments(invoice_id: int) -> list[InvoicePayment]:
    """The payments allocated to an invoice, oldest first, each split as above (two queries
    whatever the number of payments)."""
    rows = db.session.execute(
        select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount))
        .where(PaymentAllocation.invoice_id == invoice_id)
        .group_by(PaymentAllocation.payment_id)
    ).all()
    if not rows:
        return []
    here = {payment_id: amount for payment_id, amount in rows}
    totals = dict(
        db.session.execute(
            select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount))
            .where(PaymentAllocation.payment_id.in_(here))
            .group_by(PaymentAllocation.payment_id)
        ).all()
    )
    found = db.session.scalars(
        select(Payment).where(Payment.id.in_(here)).order_by(Payment.payment_date, Payment.id)
    ).all()
    return [
        InvoicePayment(
            payment,
            here[payment.id],
            totals[payment.id] - here[payment.id],
            max(payment.amount - totals[payment.id], Decimal(0)),
        )
        for payment in found
    ]


def credit_balances(client_ids: Sequence[int]) -> dict[tuple[int, str], Decimal]:
    """The positive credit balances of ``client_ids``, by (client, currency), in one query
    (the billing run asks for a batch of clients at once)."""
    if not client_ids:
        return {}
    totals = db.session.execute(
        select(CreditEntry.client_id, CreditEntry.currency, func.sum(CreditEntry.amount))
        .where(CreditEntry.client_id.in_(client_ids))
        .group_by(CreditEntry.client_id, CreditEntry.currency)
    )
    balances = {
        (client_id, currency): billing.round_money(total or Decimal(0), currency)
        for client_id, currency, total in totals
    }
    return {key: amount for key, amount in balances.items() if amount > 0}


def lock_credit(client_id: int) -> None:
    """Spend a client's credit one transaction at a time, taking the lock before the balance is
    read: an update of the client's row that changes nothing. PostgreSQL locks the row (a
    billing run holds it since it claimed the client, so one waits for the other); SQLite
    starts the write transaction, one writer at a time, which a plain SELECT would not do. A
    manual "apply credit" and a billing run therefore never both spend the same credit."""
    lock_row(Client.__table__, client_id)


def spend_credit(
    invoice: Invoice,
    amount: Decimal | None = None,
    *,
    on: date,
    available: Decimal | None = None,
    system: str | None = None,
) -> Decimal:
    """Pay ``invoice`` from the credit balance in the caller's transaction, as a payment settles
    it (partly paid, or paid with ``invoice_paid`` fired); returns what was applied (zero when
    there is no credit). The caller holds :func:`lock_credit`; ``available`` is the balance it
    read under that lock, ``system`` names an automatic process for the audit log. The invoice
    is locked here (:func:`lock_invoice`): a payment may be settling it at the same moment."""
    lock_invoice(invoice)
    if invoice.status not in PAYABLE:  # paid (or cancelled) since the caller looked
        return billing.round_money(Decimal(0), invoice.currency)
    if available is None:
        available = credit_balance(invoice.client_id, invoice.currency)
    wanted = (
        invoice.balance if amount is None else billing.check_minor_units(amount, invoice.currency)
    )
    applied = min(wanted, available, invoice.balance)
    if applied <= 0:
        return billing.round_money(Decimal(0), invoice.currency)
    client = db.session.get(Client, invoice.client_id)
    add_credit(
        client,
        -applied,
        CreditReason.APPLIED,
        invoice_id=invoice.id,
        currency=invoice.currency,
        description=invoice.number or "",
    )
    invoice.amount_paid += applied
    _settle(invoice, on)
    audit.record(
        "invoice.credit_applied",
        "invoice",
        invoice.id,
        client_id=invoice.client_id,
        after={"applied": str(applied), "status": invoice.status.value},
        system=system,
    )
    return applied


def apply_credit(invoice: Invoice, amount: Decimal | None = None) -> Decimal:
    """Pay ``invoice`` from the client's credit balance (all it can, or ``amount``). Commits.

    An add-funds invoice is refused: paying a top-up from credit would take the credit and give
    nothing back (the top-up credits the balance only when money arrives)."""
    _payable(invoice, invoice.client_id, invoice.currency)
    if invoice.kind is InvoiceKind.ADD_FUNDS:
        raise PaymentError(
            _("An add-funds invoice is paid with money, not from the credit balance.")
        )
    lock_credit(invoice.client_id)
    applied = spend_credit(invoice, amount, on=today())
    if applied <= 0:
        raise PaymentError(_("There is no credit balance to apply."))
    db.session.commit()
    return applied


def refund(payment: Payment, amount: Decimal, *, to_credit: bool, reference: str = "") -> None:
    """Give back part or all of a payment: to the credit balance, or paid out (recorded as a
    negative payment). Invoices it paid go back to unpaid/partly paid, or "refunded" when
    nothing is left on them. Commits.

    Each allocation keeps what is still paid by it (a refund lowers it), so an invoice's paid
    amount stays the sum of its allocations and the credit applied to it, and a second refund
    never takes again what the first already took. The payment, the credit balance and the
    invoices are locked first: two refunds at once cannot both give back the same money."""
    lock_credit(payment.client_id)
    lock_row(Payment.__table__, payment.id)
    db.session.refresh(payment, ["refunded", "allocations"])
    amount = billing.check_minor_units(amount, payment.currency)
    if payment.kind is not PaymentKind.PAYMENT:
        raise PaymentError(_("Only a received payment can be refunded."))
    if amount <= 0 or amount > payment.amount - payment.refunded:
        raise PaymentError(
            _("The refund must be more than zero and at most what is left of the payment.")
        )
    client = db.session.get(Client, payment.client_id)
    payment.refunded += amount
    left = amount
    allocations = sorted(payment.allocations, key=lambda a: -a.id)
    for allocation in sorted(allocations, key=lambda a: a.invoice_id):
        lock_invoice(db.session.get(Invoice, allocation.invoice_id))
    for allocation in allocations:
        invoice = db.session.get(Invoice, allocation.invoice_id)
        take = min(left, allocation.amount)
        if take <= 0:
            continue
        allocation.amount -= take
        invoice.amount_paid -= take
        left -= take
        if invoice.kind is InvoiceKind.ADD_FUNDS:
            # Paying a top-up put this money on the credit balance: it leaves from there, or
            # the client would keep the credit and get the money back as well.
            add_credit(
                client, -take, CreditReason.REFUND, payment_id=payment.id, currency=payment.currency
            )
        _settle(invoice, payment.payment_date)
        if invoice.amount_paid == 0:
            invoice.status = InvoiceStatus.REFUNDED
    if to_credit:
        # Only what comes off invoices is new credit: the part of the payment that had gone to
        # the credit balance (``left``) is there already, and crediting it again would double it.
        if amount > left:
            add_credit(
                client,
                amount - left,
                CreditReason.REFUND,
                payment_id=payment.id,
                currency=payment.currency,
            )
    else:
        if left > 0:  # part of the payment had gone to credit; take it back from there
            add_credit(
                client, -left, CreditReason.REFUND, payment_id=payment.id, currency=payment.currency
            )
        db.session.add(
            Payment(
                client_id=client.id,
                kind=PaymentKind.REFUND,
                method=payment.method,
                reference=reference or f"refund-{payment.id}-{clock().now():%Y%m%d%H%M%S%f}",
                payment_date=today(),
                currency=payment.currency,
                amount=-amount,
                refund_of_id=payment.id,
                created_at=clock().now(),
            )
        )
    audit.record(
        "payment.refund",
        "payment",
        payment.id,
        client_id=client.id,
        after={"amount": str(amount), "to_credit": to_credit},
    )
    db.session.commit()


class InvoiceRef(NamedTuple):
    """An invoice a transaction touched; ``amount`` is what a payment put towards it."""

    invoice_id: int
    number: str | None
    amount: Decimal | None


@dataclasses.dataclass(frozen=True)
class Transaction:
    """One row of the client's transactions: a payment (or refund) or a credit movement."""

    payment: Payment | None
    credit: CreditEntry | None
    invoices: tuple[InvoiceRef, ...]

    @property
    def when(self) -> date | datetime:
        if self.payment is not None:
            return self.payment.payment_date
        assert self.credit is not None  # one of the two is always set
        return self.credit.created_at


def _load_transactions(keys: Sequence[Row[Any]]) -> list[Transaction]:
    payment_ids = [row.id for row in keys if row.kind == "payment"]
    credit_ids = [row.id for row in keys if row.kind == "credit"]
    paid = {
        p.id: p
        for p in db.session.scalars(
            select(Payment)
            .where(Payment.id.in_(payment_ids))
            .options(selectinload(Payment.allocations))
        )
    }
    credit_rows = db.session.scalars(select(CreditEntry).where(CreditEntry.id.in_(credit_ids)))
    credits = {c.id: c for c in credit_rows}
    invoice_ids = {a.invoice_id for p in paid.values() for a in p.allocations}
    invoice_ids |= {c.invoice_id for c in credits.values() if c.invoice_id is not None}
    numbers: dict[int, str | None] = dict(
        db.session.execute(  # type: ignore[arg-type]
            select(Invoice.id, Invoice.number).where(Invoice.id.in_(invoice_ids))
        ).all()
    )
    rows = []
    for row in keys:
        if row.kind == "payment":
            payment = paid[row.id]
            refs = tuple(
                InvoiceRef(a.invoice_id, numbers.get(a.invoice_id), a.amount)
                for a in sorted(payment.allocations, key=lambda a: a.id)
            )
            rows.append(Transaction(payment, None, refs))
        else:
            credit = credits[row.id]
            refs = (
                (InvoiceRef(credit.invoice_id, numbers.get(credit.invoice_id), None),)
                if credit.invoice_id is not None
                else ()
            )
            rows.append(Transaction(None, credit, refs))
    return rows


def client_transactions(
    client_id: int, args: Mapping[str, str] | None = None, per_page: int = 50
) -> Page:
    """One page of the client's payments, refunds and credit balance movements, newest recorded
    first (items are :class:`Transaction`); the same few queries whatever the page holds: the
    page pages through (kind, id) keys of both tables (numbered pages of one client's rows,
    the count capped: docs/performance.md), then loads that page's rows at once."""
    keys = union_all(
        select(
            literal("payment", String).label("kind"),
            Payment.id.label("id"),
            Payment.created_at.label("recorded_at"),
        ).where(Payment.client_id == client_id),
        select(
            literal("credit", String).label("kind"),
            CreditEntry.id.label("id"),
            CreditEntry.created_at.label("recorded_at"),
        ).where(CreditEntry.client_id == client_id),
    ).subquery()
    stmt = select(keys.c.kind, keys.c.id).order_by(
        keys.c.recorded_at.desc(), keys.c.kind.desc(), keys.c.id.desc()
    )
    page = offset_page(stmt, id_column=keys.c.id, per_page=per_page, args=args)
    page.items = _load_transactions(page.items)
    return page


def client_tab_counts(client_id: int) -> dict[str, int]:
    """What the client card's Invoices and Transactions tabs list (drafts included, as staff
    see them), counted for their titles in one query."""
    invoices, paid, credited = db.session.execute(
        select(
            select(func.count(Invoice.id)).where(Invoice.client_id == client_id).scalar_subquery(),
            select(func.count(Payment.id)).where(Payment.client_id == client_id).scalar_subquery(),
            select(func.count(CreditEntry.id))
            .where(CreditEntry.client_id == client_id)
            .scalar_subquery(),
        )
    ).one()
    return {"invoices": invoices, "transactions": paid + credited}
