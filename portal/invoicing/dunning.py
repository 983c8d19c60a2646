"""Dunning: payment reminders and late fees for issued invoices, each exactly once.

Reminders: before the due date, on it, and three overdue notices (days set by staff). A run sends
an invoice at most one reminder: the latest stage that applies on the as-of date, if it was not
sent before (so a job that missed a week sends the third notice, not all three). Every reminder
is an ``invoice_reminder`` row, unique per (invoice, kind), inserted in the transaction that
queues its mail: running the job twice, or two workers at once, sends it once.

Late fees: the n-th fee of an overdue invoice falls due ``after_days + (n - 1) * repeat_days``
days after its due date (``repeat_days`` 0: one fee only); a fee is a fixed amount or a percent
of the unpaid balance, and the fees of one invoice never add up to more than the cap. A fee is
its own issued invoice (no VAT), recorded in ``late_fee`` (unique per (invoice, n)) in the same
transaction. Fees that fell due while the job did not run are charged together, a line each.
Clients with "no late fees" or "no overdue notices" are skipped by the matching part.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, exists, select, update

from portal import billing
from portal.accounts.models import Client
from portal.billing.amounts import parse_amount
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.core.once import record_once
from portal.core.transactions import savepoint
from portal.invoicing import invoices
from portal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from portal.invoicing.models.automation import InvoiceReminder, LateFee, ReminderKind
from portal.messaging import templates
from portal.messaging.outbox import Attachment
from portal.platform import runtime_settings

log = logging.getLogger(__name__)

DEFAULT_REMINDER_DAYS_BEFORE_DUE = 3
DEFAULT_REMINDER_ON_DUE = True
#: Days after the due date of the first, second and third overdue notices (0: that notice off).
DEFAULT_OVERDUE_REMINDER_DAYS = (1, 7, 14)
DEFAULT_LATE_FEE: dict[str, Any] = {
    "kind": "none",
    "amount": "",
    "after_days": 5,
    "repeat_days": 0,
    "cap": "",
}
LATE_FEE_KINDS = ("none", "fixed", "percent")
#: Invoices that are reminded of and charged late fees (collections are the agency's business).
DUNNED = (InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID)
OVERDUE_KINDS = (
    ReminderKind.FIRST_OVERDUE,
    ReminderKind.SECOND_OVERDUE,
    ReminderKind.THIRD_OVERDUE,
)
BATCH_SIZE = 200
HUNDRED = Decimal(100)
#: A percent fee may have up to this many decimals (5.125 %); a fixed fee is money (2).
PERCENT_PLACES = 4

Item = TypeVar("Item")


# --- settings -----------------------------------------------------------------------------------


def setting_int(key: str, default: int) -> int:
    """A whole-days setting; a value that is not a non-negative number reads as the default."""
    try:
        value = int(runtime_settings.get(key, default))
    except (TypeError, ValueError):
        return default
    return value if value >= 0 else default


@dataclass(frozen=True)
class ReminderSchedule:
    days_before_due: int = DEFAULT_REMINDER_DAYS_BEFORE_DUE
    on_due: bool = DEFAULT_REMINDER_ON_DUE
    overdue_days: tuple[int, int, int] = DEFAULT_OVERDUE_REMINDER_DAYS

    def stage(self, due: date, as_of: date) -> ReminderKind | None:
        """The latest reminder that applies on ``as_of`` to an invoice due on ``due``."""
        days = (as_of - due).days
        latest = None
        if 0 < -days <= self.days_before_due:
            latest = ReminderKind.BEFORE_DUE
        if days == 0 and self.on_due:
            latest = ReminderKind.ON_DUE
        for kind, after in zip(OVERDUE_KINDS, self.overdue_days, strict=True):
            if after > 0 and days >= after:
                latest = kind
        return latest

    def last_stage(self) -> ReminderKind | None:
        """The last reminder an invoice can get; once it is sent there is nothing left."""
        for kind, after in reversed(list(zip(OVERDUE_KINDS, self.overdue_days, strict=True))):
            if after > 0:
                return kind
        if self.on_due:
            return ReminderKind.ON_DUE
        return ReminderKind.BEFORE_DUE if self.days_before_due > 0 else None


def overdue_reminder_days() -> tuple[int, int, int]:
    raw = runtime_settings.get("overdue_reminder_days", list(DEFAULT_OVERDUE_REMINDER_DAYS))
    try:
        first, second, third = (max(0, int(day)) for day in raw)
    except (TypeError, ValueError):
        return DEFAULT_OVERDUE_REMINDER_DAYS
    return first, second, third


def reminder_schedule() -> ReminderSchedule:
    return ReminderSchedule(
        days_before_due=setting_int("reminder_days_before_due", DEFAULT_REMINDER_DAYS_BEFORE_DUE),
        on_due=bool(runtime_settings.get("reminder_on_due", DEFAULT_REMINDER_ON_DUE)),
        overdue_days=overdue_reminder_days(),
    )


def parse_decimal(raw: object) -> Decimal | None:
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else None
    text = str(raw if raw is not None else "").strip()
    try:
        return parse_amount(text, signed=True, places=8) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class LateFeePolicy:
    """The ``late_fee`` setting: ``kind`` "none", "fixed" (``amount`` in the invoice's currency)
    or "percent" (``amount`` percent of the unpaid balance); fee n falls due ``after_days +
    (n - 1) * repeat_days`` days overdue (``repeat_days`` 0: one fee); ``cap`` limits the total
    of an invoice's fees (None: no cap)."""

    kind: str = "none"
    amount: Decimal = Decimal(0)
    after_days: int = 5
    repeat_days: int = 0
    cap: Decimal | None = None

    @property
    def enabled(self) -> bool:
        return self.kind in ("fixed", "percent") and self.amount > 0 and self.after_days > 0

    def fees_due(self, days_overdue: int) -> int:
        """How many fees have fallen due ``days_overdue`` days after the due date."""
        if not self.enabled or days_overdue < self.after_days:
            return 0
        if self.repeat_days <= 0:
            return 1
        return 1 + (days_overdue - self.after_days) // self.repeat_days

    def fee(self, balance: Decimal, currency: str) -> Decimal:
        """One fee, rounded once (half up) to the currency's minor units."""
        if self.kind == "percent":
            return billing.round_money(balance * self.amount / HUNDRED, currency)
        return billing.round_money(self.amount, currency)

    def to_setting(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "amount": str(self.amount) if self.kind != "none" else "",
            "after_days": self.after_days,
            "repeat_days": self.repeat_days,
            "cap": "" if self.cap is None else str(self.cap),
        }

    @classmethod
    def from_setting(cls, raw: object) -> LateFeePolicy:
        """The stored setting, read leniently: anything unreadable turns fees off."""
        if not isinstance(raw, dict) or raw.get("kind") not in ("fixed", "percent"):
            return cls()
        amount = parse_decimal(raw.get("amount"))
        try:
            after, repeat = int(raw.get("after_days", 0)), int(raw.get("repeat_days", 0))
        except (TypeError, ValueError):
            return cls()
        if amount is None or amount <= 0 or after < 1 or repeat < 0:
            return cls()
        cap = parse_decimal(raw.get("cap"))
        return cls(str(raw["kind"]), amount, after, repeat, cap if cap and cap > 0 else None)


def late_fee_policy() -> LateFeePolicy:
    return LateFeePolicy.from_setting(runtime_settings.get("late_fee", DEFAULT_LATE_FEE))


# --- shared -------------------------------------------------------------------------------------


def _chunks(items: Sequence[Item], size: int = BATCH_SIZE) -> Iterable[Sequence[Item]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _each_in_savepoint(
    rows: Iterable[Item],
    work: Callable[[Item], Mapping[str, int]],
    counts: dict[str, int],
    *,
    commit_every: int = BATCH_SIZE,
) -> None:
    """Run ``work`` for each row in its own savepoint and add what it did (``{"fees": 2}``) to
    ``counts``; a row that fails is logged and counted in ``errors`` and the others go on.
    Commits every ``commit_every`` rows and at the end."""
    for done, row in enumerate(rows, start=1):
        try:
            with savepoint():
                did = work(row)
        except Exception:  # one bad invoice must not stop the run
            log.exception("dunning failed for %r", row)
            counts["errors"] += 1
        else:
            for key, number in did.items():
                counts[key] += number
        if done % commit_every == 0:
            db.session.commit()
    db.session.commit()


def invoice_link(invoice: Invoice) -> str:
    return templates.external_url("client_billing.invoice_view", invoice_id=invoice.id)


def _dunned_invoices() -> Select[tuple[int]]:
    """Issued invoices (not credit notes, not top-ups) that are still owed."""
    return select(Invoice.id).where(
        Invoice.kind == InvoiceKind.INVOICE,
        Invoice.status.in_(DUNNED),
        Invoice.due_date.is_not(None),
    )


# --- reminders ----------------------------------------------------------------------------------


def send_reminders(as_of: date) -> dict[str, int]:
    """Send the reminder due on ``as_of`` for every unpaid invoice, once per (invoice, kind).

    Commits per batch; returns how many of each kind were sent (and ``errors``).
    """
    schedule = reminder_schedule()
    counts = {kind.value: 0 for kind in ReminderKind} | {"errors": 0}
    last = schedule.last_stage()
    if last is None:
        return counts
    done = exists().where(InvoiceReminder.invoice_id == Invoice.id, InvoiceReminder.kind == last)
    query = (
        _dunned_invoices()
        .join(Client, Client.id == Invoice.client_id)
        .where(
            Client.no_overdue_notices.is_(False),
            Invoice.due_date <= as_of + timedelta(days=schedule.days_before_due),
            ~done,
        )
        .order_by(Invoice.id)
    )
    if last in (ReminderKind.BEFORE_DUE, ReminderKind.ON_DUE):
        query = query.where(Invoice.due_date >= as_of)
    for chunk in _chunks(db.session.scalars(query).all()):
        rows = db.session.scalars(
            select(Invoice).where(Invoice.id.in_(chunk)).order_by(Invoice.id)
        ).all()
        sent = {
            (invoice_id, kind)
            for invoice_id, kind in db.session.execute(
                select(InvoiceReminder.invoice_id, InvoiceReminder.kind).where(
                    InvoiceReminder.invoice_id.in_(chunk)
                )
            )
        }
        due: list[tuple[Invoice, ReminderKind]] = []
        for invoice in rows:
            kind = schedule.stage(invoice.due_date, as_of) if invoice.due_date else None
            if kind is not None and invoice.status in DUNNED and (invoice.id, kind) not in sent:
                due.append((invoice, kind))
        _each_in_savepoint(due, lambda item: _remind(*item, as_of), counts)
    return counts


def _remind(invoice: Invoice, kind: ReminderKind, as_of: date) -> dict[str, int]:
    """Record and queue one reminder (joins the transaction); nothing if it was sent before."""
    if not record_once(
        InvoiceReminder,
        ("invoice_id", "kind"),
        invoice_id=invoice.id,
        kind=kind,
        sent_on=as_of,
        created_at=clock().now(),
    ):
        return {}
    client = db.session.get(Client, invoice.client_id)
    assert invoice.due_date is not None
    templates.send(
        f"reminder_{kind.value}",
        client,
        dedupe_key=f"reminder:{invoice.id}:{kind.value}",
        invoice=invoice,
        days=abs((as_of - invoice.due_date).days),
        invoice_link=invoice_link(invoice),
    )
    return {kind.value: 1}


# --- late fees ----------------------------------------------------------------------------------


def late_fee_invoice_ids() -> Select[tuple[int | None]]:
    """The invoices that are themselves late fees (no fee is charged on a fee)."""
    return select(LateFee.fee_invoice_id).where(LateFee.fee_invoice_id.is_not(None))


def charge_late_fees(as_of: date) -> dict[str, int]:
    """Charge the late fees fallen due by ``as_of``, each (invoice, n) once.

    Commits after each fee invoice (issuing holds the number counter until then); returns how
    many fee invoices were issued, how many fees they carry, and ``errors``.
    """
    policy = late_fee_policy()
    counts = {"invoices": 0, "fees": 0, "errors": 0}
    if not policy.enabled:
        return counts
    query = (
        _dunned_invoices()
        .join(Client, Client.id == Invoice.client_id)
        .where(
            Client.no_late_fees.is_(False),
            Invoice.due_date <= as_of - timedelta(days=policy.after_days),
            Invoice.id.not_in(late_fee_invoice_ids()),
        )
        .order_by(Invoice.id)
    )
    if policy.repeat_days <= 0:  # a single fee: invoices that have it are done
        query = query.where(~exists().where(LateFee.invoice_id == Invoice.id))
    for chunk in _chunks(db.session.scalars(query).all()):
        charged: dict[int, list[tuple[int, Decimal]]] = {}
        for invoice_id, sequence, amount in db.session.execute(
            select(LateFee.invoice_id, LateFee.sequence, LateFee.amount).where(
                LateFee.invoice_id.in_(chunk)
            )
        ):
            charged.setdefault(invoice_id, []).append((sequence, amount))
        rows = db.session.scalars(select(Invoice).where(Invoice.id.in_(chunk)).order_by(Invoice.id))
        due = [
            (invoice, fees)
            for invoice in rows
            if (fees := _fees_due(policy, invoice, charged.get(invoice.id, []), as_of))
        ]
        _each_in_savepoint(due, lambda item: _charge(*item, as_of), counts, commit_every=1)
    return counts


def _fees_due(
    policy: LateFeePolicy, invoice: Invoice, charged: Sequence[tuple[int, Decimal]], as_of: date
) -> list[tuple[int, Decimal]]:
    """(n, amount) of each fee due and not yet charged, the last one cut to the cap."""
    if invoice.status not in DUNNED or invoice.due_date is None:
        return []
    done = {sequence for sequence, _amount in charged}
    total = sum((amount for _sequence, amount in charged), Decimal(0))
    fees: list[tuple[int, Decimal]] = []
    for sequence in range(1, policy.fees_due((as_of - invoice.due_date).days) + 1):
        if sequence in done:
            continue
        amount = policy.fee(invoice.balance, invoice.currency)
        if policy.cap is not None:
            amount = min(amount, billing.round_money(policy.cap, invoice.currency) - total)
        if amount <= 0:
            break
        fees.append((sequence, amount))
        total += amount
    return fees


class _ChargedBefore(Exception):
    """Another run (or worker) recorded one of these fees first."""


def _charge(invoice: Invoice, fees: Sequence[tuple[int, Decimal]], as_of: date) -> dict[str, int]:
    """Record the fees, issue their invoice and queue its mail, all in the caller's transaction;
    nothing is written if any of them was charged before."""
    now = clock().now()
    try:
        with savepoint():
            for sequence, amount in fees:
                if not record_once(
                    LateFee,
                    ("invoice_id", "sequence"),
                    invoice_id=invoice.id,
                    sequence=sequence,
                    amount=amount,
                    charged_on=as_of,
                    created_at=now,
                ):
                    raise _ChargedBefore
    except _ChargedBefore:
        return {}
    client = db.session.get(Client, invoice.client_id)
    assert invoice.due_date is not None
    with force_locale(templates.locale_of(client)):
        description = _("Late fee for invoice %(number)s", number=invoice.number)
        lines = [
            (
                billing.charge_line(
                    description,
                    amount,
                    invoice.currency,
                    details=[
                        _(
                            "Fee %(sequence)s: %(days)s days overdue",
                            sequence=sequence,
                            days=(as_of - invoice.due_date).days,
                        )
                    ],
                ),
                None,
            )
            for sequence, amount in fees
        ]
    fee_invoice = invoices.create_draft(client, lines, currency=invoice.currency)
    db.session.execute(
        update(LateFee)
        .where(
            LateFee.invoice_id == invoice.id,
            LateFee.sequence.in_([sequence for sequence, _amount in fees]),
        )
        .values(fee_invoice_id=fee_invoice.id)
    )
    invoices.issue_invoice(fee_invoice, today=as_of, commit=False)
    templates.send(
        "late_fee",
        client,
        dedupe_key=f"late-fee:{fee_invoice.id}",
        attachments=[
            Attachment(
                f"invoice-{fee_invoice.number}.pdf", "application/pdf", invoice_id=fee_invoice.id
            )
        ],
        invoice=fee_invoice,
        overdue_number=invoice.number,
        days=(as_of - invoice.due_date).days,
        invoice_link=invoice_link(fee_invoice),
    )
    return {"invoices": 1, "fees": len(fees)}


# --- what staff see on an invoice ---------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceDunning:
    """The reminders sent for an invoice, the late fees charged on it (with their invoices), and
    the invoice a fee invoice charges for."""

    reminders: list[InvoiceReminder]
    fees: list[tuple[LateFee, Invoice | None]]
    fee_for: Invoice | None


def invoice_dunning(invoice: Invoice) -> InvoiceDunning:
    reminders = db.session.scalars(
        select(InvoiceReminder)
        .where(InvoiceReminder.invoice_id == invoice.id)
        .order_by(InvoiceReminder.sent_on, InvoiceReminder.id)
    ).all()
    fees = db.session.execute(
        select(LateFee, Invoice)
        .outerjoin(Invoice, Invoice.id == LateFee.fee_invoice_id)
        .where(LateFee.invoice_id == invoice.id)
        .order_by(LateFee.sequence)
    ).all()
    fee_for = db.session.scalar(
        select(Invoice)
        .join(LateFee, LateFee.invoice_id == Invoice.id)
        .where(LateFee.fee_invoice_id == invoice.id)
        .limit(1)
    )
    return InvoiceDunning(list(reminders), list(fees), fee_for)
