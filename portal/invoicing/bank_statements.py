"""Importing a bank statement: read it with the first parser that knows the format, match each
incoming payment order to the invoices it pays, show staff what would happen, then record.

Parsers come from the ``register_statement_parsers`` hook (plugins first, the built-in
1CClientBankExchange parser last). An uploaded file is stored (``BankStatementFile``, unique by
sha256) so that it survives between the preview and the confirmation; the CLI stores it too and
confirms at once. Both use the same matching (docs/invoices-and-payments.md, "Bank statements"):

1. invoice numbers named in the purpose after a keyword — "Оплата по счету 88#72815",
   "сч. № 2026-000123", "счет 123 от 01.02.2026" (a bare sequence number of the year's series:
   the year of the date after it, else the payment's year, then the year before) — or a full
   invoice number with letters or separators anywhere in the purpose. A bare number without a
   keyword is never taken: it may be an amount, a date or an INN;
2. when no invoice number matches: the one unpaid invoice, among the clients with the payer's
   INN, whose balance is exactly the amount.

A match needs the invoice awaiting payment, in the statement's currency, and a payer INN that
does not contradict the client's. Recording goes through ``payments.record_payment`` with method
"bank" and the payment order as the reference, so the same order is one payment however often
it is imported (and whoever confirms it at the same time). What cannot be matched goes to the
unmatched payments queue (``UnmatchedPayment``, unique by reference) for staff to link to
invoices, leave as the client's credit, or dismiss.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts import audit
from portal.accounts.models import Client
from portal.core.app_state import clock, plugins
from portal.core.extensions import db
from portal.core.transactions import lock_row, savepoint
from portal.invoicing import payments
from portal.invoicing.models import (
    BankStatementFile,
    Invoice,
    InvoiceKind,
    Payment,
    UnmatchedPayment,
    UnmatchedStatus,
)
from portal.invoicing.statement_formats import (
    BankStatement,
    StatementEntry,
    StatementFormatError,
    StatementParser,
)
from portal.web.formatting import money

#: The largest statement file staff may upload (a year of a busy account is well under 1 MB).
MAX_STATEMENT_BYTES = 5 * 1024 * 1024

METHOD = "bank"


class StatementError(ValueError):
    """The file cannot be read as a statement; the message says why, for staff."""


def parsers() -> list[StatementParser]:
    """Registered parsers in the order they are asked (plugins first, built-ins last)."""
    return list(plugins().collect("register_statement_parsers"))


_EXPECTED = {
    "date": _l("a date (DD.MM.YYYY)"),
    "amount": _l("an amount more than zero"),
}


def _broken(exc: ValueError) -> str:
    """What is wrong with a file, in the staff member's language when the parser says where."""
    expected = getattr(exc, "expected", "")
    line = getattr(exc, "line", None)
    if expected == "end":
        return _("the file is cut short (no end of document or file); download it again")
    if expected == "number" and line:
        return _("line %(line)s: the payment order has no number", line=line)
    if expected in _EXPECTED and line:
        return _(
            "line %(line)s: “%(value)s” is not %(expected)s",
            line=line,
            value=getattr(exc, "value", ""),
            expected=_EXPECTED[expected],
        )
    return str(exc)


def parse(data: bytes) -> BankStatement:
    """The statement in ``data``, read by the first parser that recognises it."""
    if not data.strip():
        raise StatementError(_("The file is empty."))
    for parser in parsers():
        if parser.recognises(data):
            try:
                return parser.parse(data)
            except (StatementFormatError, ValueError) as exc:
                raise StatementError(
                    _(
                        "The %(format)s file is broken: %(error)s",
                        format=parser.label,
                        error=_broken(exc),
                    )
                ) from exc
    known = ", ".join(parser.label or parser.name for parser in parsers())
    raise StatementError(_("Unknown statement format; known formats: %(known)s", known=known))


#: ISO 4217 numeric codes as Russian account numbers carry them (digits 6–8; 810 is the
#: rouble's pre-1998 code, still used in accounts).
_ACCOUNT_CURRENCIES = {"810": "RUB", "643": "RUB", "840": "USD", "978": "EUR", "156": "CNY"}


def statement_currency(statement: BankStatement) -> str:
    """The currency of the statement's account: from a Russian account number, else the
    portal's default currency."""
    from portal.catalog.currencies import default_currency

    account = statement.account.strip()
    if len(account) == 20 and account.isdigit():
        return _ACCOUNT_CURRENCIES.get(account[5:8], default_currency())
    return default_currency()


# --- matching ------------------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    MATCHED = "matched"
    ALREADY = "already"
    QUEUED = "queued"
    UNMATCHED = "unmatched"


@dataclass
class Planned:
    """What importing one payment order does (or would do): pay ``shares`` and put
    ``to_credit`` on the client's balance, or nothing (already recorded or queued), or queue it
    with ``reason``."""

    entry: StatementEntry
    outcome: Outcome
    client: Client | None = None
    shares: list[tuple[Invoice, Decimal]] = field(default_factory=list)
    to_credit: Decimal = Decimal(0)
    reason: str = ""
    how: str = ""
    payment: Payment | None = None
    queued: UnmatchedPayment | None = None


_KEYWORD = re.compile(r"(?<!\w)(?:сч[её]т\w*|сч(?:\.|\b)|invoices?\b|inv(?:\.|\b))", re.I)
_NUMBER = re.compile(
    r"\s*(?:на\s+оплату\s*)?(?:№|N°|No\.?|N(?=\s*\d)|#)?\s*(?P<number>\w[\w/#-]*)"
    r"(?:\s*от\s*(?P<date>\d{1,2}\.\d{1,2}\.\d{4}))?",
    re.I,
)
_SEPARATOR = re.compile(r"\s*(?:,|;|\bи\b|\band\b)\s*", re.I)
_YEAR_NUMBER = re.compile(r"(?P<year>20\d\d)[-/](?P<number>\d+)")
_TOKEN = re.compile(r"[\w/#-]+")


@dataclass(frozen=True)
class NamedNumber:
    """An invoice number read from a purpose, with the date written after it, if any."""

    text: str
    day: date | None = None


def named_numbers(purpose: str) -> list[NamedNumber]:
    """Invoice numbers the purpose names after a keyword (счёт, сч., invoice), in order; a list
    ("по счетам 12, 13 и 14") is read whole. Tokens without a digit are ignored."""
    found: list[NamedNumber] = []
    for keyword in _KEYWORD.finditer(purpose):
        position = keyword.end()
        while match := _NUMBER.match(purpose, position):
            text = match["number"].rstrip("-/#")
            if not any(ch.isdigit() for ch in text):
                break
            day = None
            if match["date"]:
                try:
                    d, m, y = (int(part) for part in match["date"].split("."))
                    day = date(y, m, d)
                except ValueError:
                    day = None
            found.append(NamedNumber(text, day))
            position = match.end()
            separator = _SEPARATOR.match(purpose, position)
            if separator is None:
                break
            position = separator.end()
    return found


def _numbered_invoices() -> Select[tuple[Invoice]]:
    """Issued invoices a payment can name (credit notes are never paid)."""
    return select(Invoice).where(
        Invoice.kind != InvoiceKind.CREDIT_NOTE, Invoice.number.is_not(None)
    )


def _invoices_named(entry: StatementEntry) -> list[Invoice]:
    """Invoices the purpose names (any status), in the order named, without repeats."""
    found: list[Invoice] = []

    def add(invoices: Sequence[Invoice]) -> None:
        for invoice in invoices:
            if invoice not in found:
                found.append(invoice)

    for named in named_numbers(entry.purpose):
        exact = db.session.scalars(_numbered_invoices().where(Invoice.number == named.text)).all()
        if exact:
            add(exact)
            continue
        series_number = _YEAR_NUMBER.fullmatch(named.text)
        if series_number:
            years, sequence = [int(series_number["year"])], int(series_number["number"])
        elif named.text.isdigit():
            base = named.day or entry.day
            years, sequence = (
                [base.year] if named.day else [base.year, base.year - 1],
                int(named.text),
            )
        else:
            continue
        for year in years:
            hits = db.session.scalars(
                _numbered_invoices().where(
                    Invoice.series == str(year), Invoice.sequence == sequence
                )
            ).all()
            if hits:
                add(hits)
                break
    # A full number with letters or separators is specific enough without a keyword.
    tokens = {t.strip("-/#") for t in _TOKEN.findall(entry.purpose)}
    tokens = {t for t in tokens if any(c.isdigit() for c in t) and not t.isdigit()}
    if tokens:
        add(db.session.scalars(_numbered_invoices().where(Invoice.number.in_(tokens))).all())
    return found


def _inn_conflict(client: Client, entry: StatementEntry) -> str:
    if client.inn and entry.payer_inn and client.inn != entry.payer_inn:
        return _(
            "The payer's INN %(payer)s is not the client's %(client)s.",
            payer=entry.payer_inn,
            client=client.inn,
        )
    return ""


def _balance(invoice: Invoice, pending: dict[int, Decimal]) -> Decimal:
    return pending.get(invoice.id, invoice.balance)


def _by_number(
    entry: StatementEntry, currency: str, named: list[Invoice], pending: dict[int, Decimal]
) -> tuple[Client | None, list[Invoice], str]:
    open_ = [i for i in named if i.status in payments.PAYABLE and _balance(i, pending) > 0]
    if not open_:
        numbers = ", ".join(i.number or "" for i in named)
        return None, [], _("Invoice %(numbers)s is not awaiting payment.", numbers=numbers)
    if len({i.client_id for i in open_}) > 1:
        return None, [], _("The purpose names invoices of different clients.")
    client = db.session.get(Client, open_[0].client_id)
    if client is None:
        return None, [], _("The invoice's client no longer exists.")
    if conflict := _inn_conflict(client, entry):
        return None, [], conflict
    wrong = [i for i in open_ if i.currency != currency]
    if wrong:
        return (
            None,
            [],
            _(
                "Invoice %(number)s is in %(currency)s, the statement in %(statement)s.",
                number=wrong[0].number,
                currency=wrong[0].currency,
                statement=currency,
            ),
        )
    return client, open_, ""


def _by_inn_and_amount(
    entry: StatementEntry, currency: str, pending: dict[int, Decimal]
) -> tuple[Client | None, list[Invoice], str]:
    if not entry.payer_inn:
        return None, [], _("No invoice number in the purpose and no payer INN.")
    clients = db.session.scalars(select(Client).where(Client.inn == entry.payer_inn)).all()
    if not clients:
        return (
            None,
            [],
            _(
                "No invoice number in the purpose, and no client has INN %(inn)s.",
                inn=entry.payer_inn,
            ),
        )
    candidates = db.session.scalars(
        _numbered_invoices()
        .where(
            Invoice.client_id.in_([c.id for c in clients]),
            Invoice.status.in_(payments.PAYABLE),
            Invoice.currency == currency,
        )
        .order_by(Invoice.id)
    ).all()
    exact = [i for i in candidates if _balance(i, pending) == entry.amount]
    if len(exact) == 1:
        client = next(c for c in clients if c.id == exact[0].client_id)
        return client, exact, ""
    if not exact:
        return (
            None,
            [],
            _(
                "No invoice number in the purpose, and no unpaid invoice of the client with "
                "INN %(inn)s is for exactly this amount.",
                inn=entry.payer_inn,
            ),
        )
    return (
        None,
        [],
        _(
            "No invoice number in the purpose, and several unpaid invoices of the client with "
            "INN %(inn)s are for this amount: %(numbers)s.",
            inn=entry.payer_inn,
            numbers=", ".join(i.number or "" for i in exact),
        ),
    )


def _existing_payment(entry: StatementEntry) -> Payment | None:
    """The payment already recorded for this order: imported before (from this file or
    another), or typed by staff with less detail (portal/invoicing/payment_references.py)."""
    return payments.recorded_payment(
        METHOD, entry.payment_reference, entry.amount, entry.received or entry.day
    )


def _by_hand(entry: StatementEntry, payment: Payment) -> bool:
    """Whether ``payment`` is this order recorded by hand, not yet confirmed by a statement:
    it lacks the order's full key (the payer's INN, the date)."""
    return payment.reference_key != entry.payment_reference.key


def _queued(entry: StatementEntry) -> UnmatchedPayment | None:
    return db.session.scalar(
        select(UnmatchedPayment).where(UnmatchedPayment.reference == entry.reference)
    )


def plan_entry(
    entry: StatementEntry, currency: str, pending: dict[int, Decimal] | None = None
) -> Planned:
    """What importing ``entry`` does now. ``pending`` holds invoice balances as earlier orders
    of the same preview would leave them."""
    pending = {} if pending is None else pending
    payment = _existing_payment(entry)
    if payment is not None:
        reason = ""
        if payment.amount != entry.amount:  # the same order typed with another amount
            reason = _(
                "Recorded as payment #%(id)s for %(amount)s, not the amount of the statement: "
                "check the payment.",
                id=payment.id,
                amount=money(payment.amount, payment.currency),
            )
        elif _by_hand(entry, payment):
            reason = _(
                "Already recorded by hand as payment #%(id)s (%(reference)s).",
                id=payment.id,
                reference=payment.reference,
            )
        return Planned(entry, Outcome.ALREADY, payment=payment, reason=reason)
    queued = _queued(entry)
    if queued is not None:
        return Planned(entry, Outcome.QUEUED, reason=queued.reason, queued=queued)
    named = _invoices_named(entry)
    if named:
        client, invoices, reason = _by_number(entry, currency, named, pending)
        how = _("by the invoice number in the purpose")
    else:
        client, invoices, reason = _by_inn_and_amount(entry, currency, pending)
        how = _("by the payer's INN and the amount")
    if client is None:
        return Planned(entry, Outcome.UNMATCHED, reason=reason)
    remaining = entry.amount
    shares = []
    for invoice in invoices:
        share = min(remaining, _balance(invoice, pending))
        if share > 0:
            shares.append((invoice, share))
            remaining -= share
    return Planned(
        entry, Outcome.MATCHED, client=client, shares=shares, to_credit=remaining, how=how
    )


def preview(statement: BankStatement) -> list[Planned]:
    """What confirming the import would do for each order, in the file's order; records
    nothing. Orders of the same file that pay the same invoice are seen one after another."""
    currency = statement_currency(statement)
    pending: dict[int, Decimal] = {}
    seen: set[str] = set()
    rows = []
    for entry in statement.entries:
        if entry.reference in seen:
            rows.append(Planned(entry, Outcome.ALREADY, reason=_("Twice in this file.")))
            continue
        seen.add(entry.reference)
        planned = plan_entry(entry, currency, pending)
        for invoice, share in planned.shares:
            pending[invoice.id] = _balance(invoice, pending) - share
        rows.append(planned)
    return rows


# --- storing and confirming ---------------------------------------------------------------------


def store_statement(
    data: bytes, filename: str = "", staff_id: int | None = None
) -> tuple[BankStatementFile, BankStatement]:
    """Keep an uploaded file (once per content) after checking that it reads; commits. A file
    that does not read is refused whole and nothing is stored."""
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementError(
            _(
                "The file is larger than %(size)s MB; a bank statement is much smaller.",
                size=MAX_STATEMENT_BYTES // (1024 * 1024),
            )
        )
    statement = parse(data)
    digest = hashlib.sha256(data).hexdigest()
    stored = _stored_by_digest(digest)
    if stored is not None:
        return stored, statement
    stored = BankStatementFile(
        sha256=digest,
        filename=filename[:255],
        data=data,
        parser=statement.parser,
        account=statement.account[:34],
        period_start=statement.start,
        period_end=statement.end,
        entries=len(statement.entries),
        uploaded_by_id=staff_id,
        created_at=clock().now(),
    )
    try:
        with savepoint():
            db.session.add(stored)
    except IntegrityError:
        db.session.rollback()  # the same file uploaded at the same moment by someone else
        return _stored_by_digest(digest), statement  # type: ignore[return-value]
    audit.record(
        "bank_statement.upload",
        "bank_statement_file",
        stored.id,
        after={"filename": stored.filename, "sha256": digest, "entries": stored.entries},
    )
    db.session.commit()
    return stored, statement


def _stored_by_digest(digest: str) -> BankStatementFile | None:
    return db.session.scalar(select(BankStatementFile).where(BankStatementFile.sha256 == digest))


@dataclass
class ImportReport:
    """What an import did: payments recorded now (by this import, not by one running at the
    same time), orders already recorded (``linked``: of them, payments typed by hand that this
    import confirmed), orders queued now for staff, and orders that were already waiting in the
    queue."""

    statement: BankStatement
    recorded: list[Payment] = field(default_factory=list)
    already: list[StatementEntry] = field(default_factory=list)
    linked: list[tuple[StatementEntry, Payment]] = field(default_factory=list)
    unmatched: list[tuple[StatementEntry, str]] = field(default_factory=list)
    queued_before: list[StatementEntry] = field(default_factory=list)


def _enqueue(entry: StatementEntry, reason: str, currency: str, statement_id: int | None) -> bool:
    """Put an order in the unmatched queue once (a concurrent import's row wins: False);
    commits."""
    row = UnmatchedPayment(
        statement_id=statement_id,
        reference=entry.reference,
        number=entry.number[:40],
        day=entry.day,
        received=entry.received,
        currency=currency,
        amount=entry.amount,
        payer=entry.payer[:255],
        payer_inn=entry.payer_inn[:12],
        payer_account=entry.payer_account[:34],
        purpose=entry.purpose,
        reason=reason,
        created_at=clock().now(),
    )
    try:
        with savepoint():
            db.session.add(row)
    except IntegrityError:
        db.session.rollback()
        return False
    db.session.commit()
    return True


def _confirm_hand_entry(
    entry: StatementEntry, payment: Payment, statement_id: int, staff_id: int | None
) -> bool:
    """Mark a payment typed by hand as this statement's order: it takes the order's full key,
    so the next import finds it at once, and the order, if an earlier import left it in the
    unmatched queue, is linked to it; commits. False if another import did it first."""
    before = payment.reference_key
    try:
        with savepoint():
            payment.reference_key = entry.payment_reference.key
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    db.session.execute(
        update(UnmatchedPayment)
        .where(
            UnmatchedPayment.reference == entry.reference,
            UnmatchedPayment.status == UnmatchedStatus.OPEN,
        )
        .values(
            status=UnmatchedStatus.LINKED,
            client_id=payment.client_id,
            payment_id=payment.id,
            resolved_by_id=staff_id,
            resolved_at=clock().now(),
        )
    )
    audit.record(
        "bank_statement.match",
        "payment",
        payment.id,
        client_id=payment.client_id,
        before={"reference_key": before},
        after={
            "reference_key": payment.reference_key,
            "statement": statement_id,
            "order": entry.reference,
        },
    )
    db.session.commit()
    return True


def confirm(stored: BankStatementFile, staff_id: int | None = None) -> ImportReport:
    """Record what the stored statement's orders pay, queue what matches nothing. Each order
    commits on its own (a statement is a list of independent facts); matching is done again
    order by order, so the result is right even if the preview has aged. Repeating it, or two
    staff confirming at once, records each order once."""
    report = ImportReport(parse(stored.data))
    currency = statement_currency(report.statement)
    for entry in report.statement.entries:
        # Two confirmations of the same file take turns order by order, so the second plans
        # with the first's payments in sight and neither queues an order the other has just
        # paid (the lock is taken before the order is planned). The unique keys keep the data
        # right regardless.
        lock_row(BankStatementFile.__table__, stored.id)
        planned = plan_entry(entry, currency)
        if planned.outcome is Outcome.ALREADY:
            report.already.append(entry)
            payment = planned.payment
            if (
                payment is not None
                and _by_hand(entry, payment)
                and _confirm_hand_entry(entry, payment, stored.id, staff_id)
            ):
                report.linked.append((entry, payment))
            continue
        if planned.outcome is Outcome.QUEUED:
            report.queued_before.append(entry)
            continue
        reason = planned.reason
        if planned.outcome is Outcome.MATCHED and planned.client is not None:
            try:
                payment = payments.record_payment(
                    planned.client,
                    amount=entry.amount,
                    method=METHOD,
                    reference=entry.payment_reference,
                    payment_date=entry.received or entry.day,
                    invoices=[invoice for invoice, _share in planned.shares],
                    currency=currency,
                    description=entry.purpose[:500],
                )
            except payments.PaymentError as exc:
                db.session.rollback()
                reason = str(exc)
            else:
                # Another import of the same orders (another file, the CLI) may have recorded
                # it a moment ago: that is not this import's to report.
                if payment.recorded_now:
                    report.recorded.append(payment)
                else:
                    report.already.append(entry)
                continue
        if _existing_payment(entry) is not None:
            # Another import recorded it while this one planned (and so found its invoice
            # paid): already recorded, not a payment for staff to link.
            report.already.append(entry)
            continue
        if _enqueue(entry, reason, currency, stored.id):
            report.unmatched.append((entry, reason))
        else:
            report.queued_before.append(entry)
    db.session.execute(
        update(BankStatementFile)
        .where(BankStatementFile.id == stored.id, BankStatementFile.confirmed_at.is_(None))
        .values(confirmed_at=clock().now(), confirmed_by_id=staff_id)
    )
    db.session.commit()
    return report


def import_statement(data: bytes, filename: str = "") -> ImportReport:
    """Store and confirm at once (the CLI): the same matching as the upload page."""
    stored, _statement = store_statement(data, filename)
    return confirm(stored)


def recent_statements(limit: int = 20) -> list[BankStatementFile]:
    return list(
        db.session.scalars(
            select(BankStatementFile).order_by(BankStatementFile.id.desc()).limit(limit)
        )
    )


# --- the unmatched payments queue ----------------------------------------------------------------


def unmatched_list(status: UnmatchedStatus | None) -> Select[tuple[UnmatchedPayment]]:
    stmt = select(UnmatchedPayment).order_by(
        UnmatchedPayment.day.desc(), UnmatchedPayment.id.desc()
    )
    if status is not None:
        stmt = stmt.where(UnmatchedPayment.status == status)
    return stmt


def find_clients(query: str, limit: int = 20) -> list[Client]:
    """Clients whose name, company or INN contains ``query``, for linking a payment by hand."""
    query = query.strip()
    if not query:
        return []
    like = f"%{query}%"
    return list(
        db.session.scalars(
            select(Client)
            .where(
                or_(
                    Client.company.ilike(like),
                    Client.first_name.ilike(like),
                    Client.last_name.ilike(like),
                    Client.email.ilike(like),
                    Client.inn.like(f"{query}%"),
                )
            )
            .order_by(Client.id)
            .limit(limit)
        )
    )


def open_invoices(client: Client, currency: str) -> list[Invoice]:
    """The client's invoices awaiting payment in ``currency``, oldest due first."""
    return list(
        db.session.scalars(
            _numbered_invoices()
            .where(
                Invoice.client_id == client.id,
                Invoice.status.in_(payments.PAYABLE),
                Invoice.currency == currency,
            )
            .order_by(Invoice.due_date, Invoice.id)
        )
    )


def _claim(
    row: UnmatchedPayment, status: UnmatchedStatus, staff_id: int | None, **values: object
) -> None:
    """Take the row out of the queue in the caller's transaction; refuses if someone else did."""
    claimed = db.session.execute(
        update(UnmatchedPayment)
        .where(UnmatchedPayment.id == row.id, UnmatchedPayment.status == UnmatchedStatus.OPEN)
        .values(status=status, resolved_by_id=staff_id, resolved_at=clock().now(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise payments.PaymentError(_("This payment order has already been dealt with."))


def resolve_with_payment(
    row: UnmatchedPayment,
    client: Client,
    invoices: Sequence[Invoice] = (),
    staff_id: int | None = None,
) -> Payment:
    """Record the queued order as the client's payment of ``invoices`` (none: all of it is
    credit) through ``record_payment``, with the order's reference; commits."""
    if row.status is not UnmatchedStatus.OPEN:
        raise payments.PaymentError(_("This payment order has already been dealt with."))
    conflict = _inn_conflict(
        client,
        StatementEntry(
            number=row.number, day=row.day, amount=row.amount, purpose="", payer_inn=row.payer_inn
        ),
    )
    if conflict:
        raise payments.PaymentError(conflict)
    status = UnmatchedStatus.LINKED if invoices else UnmatchedStatus.CREDITED
    _claim(row, status, staff_id, client_id=client.id)
    payment = payments.record_payment(
        client,
        amount=row.amount,
        method=METHOD,
        reference=row.reference,
        payment_date=row.received or row.day,
        invoices=invoices,
        currency=row.currency,
        description=row.purpose[:500],
    )
    db.session.refresh(row)
    row.status = status
    row.client_id = client.id
    row.payment_id = payment.id
    row.resolved_by_id = staff_id
    row.resolved_at = row.resolved_at or clock().now()
    audit.record(
        "bank_statement.link",
        "unmatched_payment",
        row.id,
        client_id=client.id,
        after={
            "reference": row.reference,
            "status": status.value,
            "payment": payment.id,
            "invoices": [invoice.number for invoice in invoices],
        },
    )
    db.session.commit()
    return payment


def dismiss(row: UnmatchedPayment, reason: str, staff_id: int | None = None) -> None:
    """Mark the order as not ours (a refund by another bank, a mistaken transfer); the row stays
    for audit with the reason. Commits."""
    reason = " ".join(reason.split())
    if not reason:
        raise payments.PaymentError(_("Say why the payment is not ours."))
    _claim(row, UnmatchedStatus.DISMISSED, staff_id, dismiss_reason=reason)
    audit.record(
        "bank_statement.dismiss",
        "unmatched_payment",
        row.id,
        after={"reference": row.reference, "reason": reason},
    )
    db.session.commit()
    db.session.refresh(row)
