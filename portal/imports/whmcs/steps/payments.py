"""tblaccounts -> payments, their allocation to invoices, refunds and gateway fees; then every
imported invoice's paid amount and status are settled from the ledger.

- A transaction with ``amountin`` is a payment of the client's currency, allocated to its
  invoice up to what the invoice still owes; more than that stays unallocated (WHMCS put the
  rest on the credit balance, which the credit step brings over) and the report says so.
- A transaction with ``amountout`` is a refund (a negative payment); with ``refundid`` it gives
  back that payment: the payment's refunded amount grows and its allocation shrinks, as when
  the portal refunds.
- ``fees`` is kept on the payment (what the gateway kept; a refund's negative fee is a fee
  given back). The transaction id is the payment's reference; where WHMCS has none, or the
  same one twice for a gateway, the reference is ``WHMCS-<id>``.
- Transactions of no client (WHMCS's income/expense log) are refused: the portal keeps its
  clients' money only.
- Written directly, never through ``record_payment``: that mails a receipt and fires
  ``invoice_paid``, which provisions services and lifts suspensions. History must do neither;
  the settling below sets status and paid amount without firing anything.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update

from portal.core.extensions import db
from portal.imports.whmcs.billing import (
    ZERO,
    both_sides,
    clients,
    imported,
    mapped,
    money,
    per_currency,
    settled_status,
)
from portal.imports.whmcs.bulk import BatchSync
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.values import moment
from portal.invoicing.models import (
    CreditEntry,
    CreditReason,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentKind,
)

TABLE = "tblaccounts"


def run(ctx: ImportContext) -> None:
    """New payments go in batches (bulk.BatchSync); refunds, which change the payment they
    give back, and changed rows are written one by one."""
    with db.session.no_autoflush:
        invoices = mapped(ctx, "tblinvoices")
        owed = _owed()
        twice = {
            (row["gateway"], row["transid"])
            for row in ctx.source.query(
                "SELECT gateway, transid FROM tblaccounts WHERE transid <> '' "
                "GROUP BY gateway, transid HAVING COUNT(*) > 1"
            )
        }

        def write(row: dict[str, Any], existing: int | None, _data: object = None) -> int:
            return _write(ctx, row, invoices, owed, twice, existing)

        def build(row: dict[str, Any], _data: object) -> tuple[dict[str, Any], Any]:
            payment, allocation = _values(ctx, row, invoices, owed, twice)
            return payment, allocation

        batch = BatchSync(
            ctx,
            TABLE,
            target_table="payment",
            write=write,
            build=build,
            insert=_insert,
            existing_ids=set(db.session.scalars(select(Payment.id))),
        )
        for row in ctx.rows(TABLE):
            if money(row["amountout"]) and not money(row["amountin"]):
                batch.flush()  # the payment it gives back may be in the batch
                ctx.sync(
                    TABLE,
                    row,
                    target_table="payment",
                    write=lambda existing, row=row: write(row, existing),
                    exists=lambda target: db.session.get(Payment, target) is not None,
                )
            else:
                batch.add(row)
        batch.flush()
        settle_invoices(ctx)


def _insert(built: list[tuple[dict[str, Any], tuple[int, Decimal] | None]]) -> list[int]:
    ids = list(
        db.session.scalars(
            insert(Payment).returning(Payment.id, sort_by_parameter_order=True),
            [payment for payment, _allocation in built],
        )
    )
    allocations = [
        {"payment_id": payment_id, "invoice_id": allocation[0], "amount": allocation[1]}
        for payment_id, (_payment, allocation) in zip(ids, built, strict=True)
        if allocation is not None
    ]
    if allocations:
        db.session.execute(insert(PaymentAllocation), allocations)
    return ids


def _owed() -> dict[int, Decimal]:
    """Invoice id -> what payments may still be allocated to it (total less credit applied
    less what is allocated)."""
    owed = dict(db.session.execute(select(Invoice.id, Invoice.total)).all())
    for invoice_id, amount in _received():
        owed[invoice_id] = owed.get(invoice_id, ZERO) - amount
    return owed


def _received() -> list[tuple[int, Decimal]]:
    allocated = select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount)).group_by(
        PaymentAllocation.invoice_id
    )
    applied = (
        select(CreditEntry.invoice_id, -func.sum(CreditEntry.amount))
        .where(CreditEntry.reason == CreditReason.APPLIED, CreditEntry.invoice_id.is_not(None))
        .group_by(CreditEntry.invoice_id)
    )
    return [
        *db.session.execute(allocated).all(),
        *db.session.execute(applied).all(),
    ]


def _checked(ctx: ImportContext, row: dict[str, Any]) -> tuple[int, str]:
    """The (portal client id, currency) of a transaction worth importing, or Refused."""
    if not row["userid"]:
        raise Refused("not a client's transaction (the portal keeps its clients' money only)")
    client = clients(ctx).get(row["userid"])
    if client is None:
        raise Refused(f"its client #{row['userid']} was not imported")
    amount_in, amount_out = money(row["amountin"]), money(row["amountout"])
    if amount_in and amount_out:
        raise Refused("both money in and money out: split it in WHMCS first")
    if not amount_in and not amount_out:
        raise Refused("moves no money")
    return client


def _values(
    ctx: ImportContext,
    row: dict[str, Any],
    invoices: dict[str, int],
    owed: dict[int, Decimal],
    twice: set[tuple[str, str]],
) -> tuple[dict[str, Any], tuple[int, Decimal] | None]:
    """A new payment's values, and its allocation (invoice id, amount) if it pays one."""
    client_id, currency = _checked(ctx, row)
    amount_in, amount_out = money(row["amountin"]), money(row["amountout"])
    paid_on = moment(ctx, row["date"]) or ctx.now
    transid = (row["transid"] or "").strip()
    unique = transid and (row["gateway"], row["transid"]) not in twice
    payment = {
        "client_id": client_id,
        "kind": PaymentKind.PAYMENT if amount_in else PaymentKind.REFUND,
        "method": (row["gateway"] or "").strip()[:50] or "whmcs",
        "reference": transid[:100] if unique else f"WHMCS-{row['id']}",
        "reference_key": None,
        "payment_date": paid_on.date(),
        "currency": currency,
        "amount": amount_in or -amount_out,
        "fee": money(row["fees"]),
        "description": _description(row),
        "refunded": ZERO,
        "created_at": paid_on,
    }
    invoice_id = invoices.get(str(row["invoiceid"])) if row["invoiceid"] else None
    allocation = _allocation(ctx, row, invoice_id, amount_in, owed) if amount_in else None
    return payment, allocation


def _write(
    ctx: ImportContext,
    row: dict[str, Any],
    invoices: dict[str, int],
    owed: dict[int, Decimal],
    twice: set[tuple[str, str]],
    existing: int | None,
) -> int:
    payment = db.session.get(Payment, existing) if existing else None
    if payment is not None:  # recorded already: only what does not move money is updated
        _checked(ctx, row)
        payment.description = _description(row)
        payment.fee = money(row["fees"])
        payment.payment_date = (moment(ctx, row["date"]) or ctx.now).date()
        if payment.amount != (money(row["amountin"]) or -money(row["amountout"])):
            ctx.report.refused_value(
                TABLE, row["id"], "amountin", "the amount changed in WHMCS: not changed here"
            )
        return payment.id
    values, allocation = _values(ctx, row, invoices, owed, twice)
    payment = Payment(**values)
    db.session.add(payment)
    if allocation is not None:
        payment.allocations.append(
            PaymentAllocation(invoice_id=allocation[0], amount=allocation[1])
        )
    if payment.kind is PaymentKind.REFUND:
        _refund(ctx, row, payment, -payment.amount, owed)
    db.session.flush()
    return payment.id


def _description(row: dict[str, Any]) -> str:
    return (row["description"] or "").strip()


def _allocation(
    ctx: ImportContext,
    row: dict[str, Any],
    invoice_id: int | None,
    amount: Decimal,
    owed: dict[int, Decimal],
) -> tuple[int, Decimal] | None:
    """What of a payment goes to its invoice: at most what the invoice still owes."""
    if invoice_id is None:
        return None
    share = min(amount, max(owed.get(invoice_id, ZERO), ZERO))
    if share < amount:
        ctx.report.refused_value(
            TABLE,
            row["id"],
            "amountin",
            f"{amount - share} more than invoice #{row['invoiceid']} owed: left unallocated "
            "(WHMCS put it on the credit balance)",
        )
    if share <= 0:
        return None
    owed[invoice_id] = owed.get(invoice_id, ZERO) - share
    return invoice_id, share


def _refund(
    ctx: ImportContext,
    row: dict[str, Any],
    refund: Payment,
    amount: Decimal,
    owed: dict[int, Decimal],
) -> None:
    original_id = ctx.mappings.target_id(TABLE, row["refundid"]) if row["refundid"] else None
    original = db.session.get(Payment, original_id) if original_id else None
    if original is None:
        return
    refund.refund_of_id = original.id
    refund.method = original.method
    original.refunded = min(original.refunded + amount, original.amount)
    left = amount
    for allocation in sorted(original.allocations, key=lambda a: -a.id):
        take = min(left, allocation.amount)
        if take <= 0:
            continue
        allocation.amount -= take
        owed[allocation.invoice_id] = owed.get(allocation.invoice_id, ZERO) + take
        left -= take


def settle_invoices(ctx: ImportContext) -> None:
    """Every imported invoice's paid amount is what its allocations and applied credit add up
    to, and its status follows (:func:`settled_status`), as ``portal billing check`` expects.
    Written without firing ``invoice_paid``: nothing is provisioned or mailed."""
    db.session.flush()
    received: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for invoice_id, amount in _received():
        received[invoice_id] += amount
    rows = db.session.execute(
        select(
            Invoice.id,
            Invoice.status,
            Invoice.total,
            Invoice.amount_paid,
            Invoice.paid_date,
            Invoice.issue_date,
        ).where(Invoice.id.in_(imported(ctx, "tblinvoices")))
    )
    changes = []
    for invoice_id, status, total, paid, paid_date, issue_date in rows:
        now_paid = received[invoice_id]
        now_status = settled_status(status, total, now_paid)
        if now_paid == paid and now_status is status:
            continue
        change: dict[str, Any] = {"id": invoice_id, "amount_paid": now_paid, "status": now_status}
        if now_status is InvoiceStatus.PAID and paid_date is None:
            change["paid_date"] = issue_date
        changes.append(change)
    for start in range(0, len(changes), 1000):
        db.session.execute(update(Invoice), changes[start : start + 1000])


def totals(ctx: ImportContext) -> None:
    for row in per_currency(
        ctx,
        "SELECT COALESCE(cur.code, :fallback) AS code, COUNT(*) AS n, SUM(a.amountin) AS paid, "
        "SUM(a.amountout) AS refunded, SUM(a.fees) AS fees FROM tblaccounts a "
        "JOIN tblclients c ON c.id = a.userid LEFT JOIN tblcurrencies cur ON cur.id = c.currency "
        "WHERE a.userid > 0 AND NOT (a.amountin > 0 AND a.amountout > 0) "
        "AND (a.amountin <> 0 OR a.amountout <> 0) GROUP BY code",
    ):
        ctx.report.source.add("payments total", row["code"], money(row["paid"]))
        ctx.report.source.add("refunds total", row["code"], money(row["refunded"]))
        ctx.report.source.add("payment fees", row["code"], money(row["fees"]))
    ctx.report.source.count(
        "payments",
        int(ctx.source.scalar("SELECT COUNT(*) FROM tblaccounts WHERE userid > 0") or 0),
    )
    ids = imported(ctx, TABLE)
    count = 0
    for kind, currency, number, amount, fees in db.session.execute(
        select(
            Payment.kind,
            Payment.currency,
            func.count(),
            func.sum(Payment.amount),
            func.sum(Payment.fee),
        )
        .where(Payment.id.in_(ids))
        .group_by(Payment.kind, Payment.currency)
    ):
        count += number
        if kind is PaymentKind.PAYMENT:
            ctx.report.imported.add("payments total", currency, money(amount))
        else:
            ctx.report.imported.add("refunds total", currency, money(-amount))
        ctx.report.imported.add("payment fees", currency, money(fees))
    ctx.report.imported.count("payments", count)
    both_sides(ctx, "payments total", "refunds total", "payment fees")
