"""Additional charges (доп. начисления): sessions or bases used above the tariff's limits in a
month become a charge the client has 30 days to pay; unpaid after that, only the function used
on credit (the extra sessions, the extra bases) is blocked, never the whole service; paying
unblocks it. The client may refuse a charge with a comment: the invoice is cancelled, the charge
leaves the statistics and the function is blocked.

The day count: a charge issued on day D is due on D + 30 (the days to pay) and may be paid
through that day; the daily job blocks it on the first day after the due date (D + 31).

A block is a provisioning command of the service's module through the queue (retries, staff
see it): the cloud's ``block_function`` with the function and the quantity (``{"function":
"sessions", "quantity": 2}``), carried by a ``suspend`` task while the service stays active in
the portal; paying queues ``unblock_function`` (carried by ``unsuspend``). One block and one
unblock per charge (dedupe keys), however often the job runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.billing import Period
from portal.plugin_api import (
    Invoice,
    InvoiceError,
    InvoiceStatus,
    Product,
    Service,
    ServiceStatus,
    add_charge,
    cancel_invoice,
    client_locale,
    now,
    product_values,
    queue_provisioning,
    savepoint,
    session,
)
from portal_onec import charge_settings, charge_usage
from portal_onec.charge_model import AdditionalCharge, ChargeState, Function
from portal_onec.commands import BLOCK_FUNCTION, CARRIER, COMMAND_KEY, UNBLOCK_FUNCTION

log = logging.getLogger(__name__)

MODULE = charge_settings.MODULE
#: ``payload["reason"]`` of the commands queued for a charge.
UNPAID = "onec:charge_unpaid"
REFUSED = "onec:charge_refused"
PAID = "onec:charge_paid"
#: Services whose usage is charged.
CHARGED = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)
#: The product kind of a tariff (onec product fields): the only one charged.
TARIFF = "sessions"
#: The tariff's product field holding each function's limit (onec product fields).
LIMIT_FIELDS = {Function.SESSIONS: "sessions_limit", Function.BASES: "bases_limit"}
PRICE_FIELDS = {Function.SESSIONS: "session_price", Function.BASES: "base_price"}
#: The invoice states in which a charge is still to pay.
TO_PAY = (InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID)
#: What a charge can still become.
UNSETTLED = (ChargeState.OPEN.value, ChargeState.BLOCKED.value)


class ChargeError(ValueError):
    """A charge cannot be refused (no comment, already paid); the message is shown as is."""


@dataclass(frozen=True)
class Overage:
    """What a service used above its tariff in a month, and its price per unit."""

    function: Function
    included: int
    measured: int
    unit_price: Decimal

    @property
    def quantity(self) -> int:
        return self.measured - self.included


def month_before(as_of: date) -> Period:
    """The calendar month before the one ``as_of`` is in: the month the job charges."""
    first = as_of.replace(day=1)
    return Period((first - timedelta(days=1)).replace(day=1), first)


def _limits(product: Product) -> dict[str, int] | None:
    """The tariff's limits; None for a product that is not a tariff (a base, a licence)."""
    fields = product_values(product, MODULE)
    if fields.get("kind", TARIFF) != TARIFF:
        return None
    return {name: int(fields.get(name) or 0) for name in LIMIT_FIELDS.values()}


def overages(service: Service, period: Period) -> list[Overage]:
    """What ``service`` used in ``period`` above its tariff's limits, priced: a limit of 0 is
    no limit unless the product is postpaid; a function priced at 0 is never charged; only
    tariffs (product kind "sessions") are charged."""
    prices = charge_settings.values(service.product)
    limits = _limits(service.product)
    if limits is None:
        return []
    found = []
    for function in Function:
        included = limits[LIMIT_FIELDS[function]]
        price = prices[PRICE_FIELDS[function]]
        if price <= 0 or (included == 0 and not prices["postpaid"]):
            continue
        measured = charge_usage.measured(service, function, period)
        if measured is not None and measured > included:
            found.append(Overage(function, included, measured, price))
    return found


def charged_services() -> list[int]:
    query = (
        select(Service.id)
        .join(Product, Product.id == Service.product_id)
        .where(Product.module == MODULE, Service.status.in_(CHARGED))
        .order_by(Service.id)
    )
    return list(session().scalars(query))


def describe(overage: Overage) -> tuple[str, list[str]]:
    """The invoice line's description and details, in the current language."""
    if overage.function is Function.SESSIONS:
        text = _("Concurrent sessions above the tariff")
        detail = _(
            "Peak of %(measured)s concurrent sessions, %(included)s included in the tariff",
            measured=overage.measured,
            included=overage.included,
        )
    else:
        text = _("Information bases above the tariff")
        detail = _(
            "%(measured)s information bases, %(included)s included in the tariff",
            measured=overage.measured,
            included=overage.included,
        )
    return text, [detail]


def charge(service: Service, period: Period, overage: Overage) -> AdditionalCharge | None:
    """Charge ``overage`` once for the service, function and month: the row is inserted first
    (its unique key is the lock: a second run or a second worker finds it and charges
    nothing), then the invoice is issued to the client in the same transaction, due after the
    product's days to pay. None when it was charged before. Joins the caller's transaction."""
    existing = session().scalar(
        select(AdditionalCharge.id).where(
            AdditionalCharge.service_id == service.id,
            AdditionalCharge.function == overage.function.value,
            AdditionalCharge.period_start == period.start,
        )
    )
    if existing is not None:
        return None
    days = charge_settings.values(service.product)["days_to_pay"]
    row = AdditionalCharge(
        client_id=service.client_id,
        service_id=service.id,
        function=overage.function.value,
        period_start=period.start,
        period_end=period.end,
        included=overage.included,
        measured=overage.measured,
        quantity=overage.quantity,
        unit_price=overage.unit_price,
        amount=Decimal(0),
        currency=service.currency,
        state=ChargeState.OPEN.value,
        due_date=period.end,  # replaced by the invoice's below
        refusal_comment="",
        created_at=now(),
    )
    try:
        with savepoint():
            session().add(row)
            session().flush()
    except IntegrityError:  # another worker charged it a moment ago
        return None
    with client_locale(service.client):
        description, details = describe(overage)
    invoice = add_charge(
        service.client,
        description=description,
        unit_price=overage.unit_price,
        quantity=overage.quantity,
        service=service,
        period=period,
        details=details,
        issue=True,
        due_days=days,
        commit=False,
    )
    row.invoice_id = invoice.id
    row.amount = invoice.total
    row.currency = invoice.currency
    row.due_date = invoice.due_date
    session().flush()
    return row


def charge_month(as_of: date) -> dict[str, int]:
    """Charge every 1C service's usage above its tariff in the month before ``as_of``. Commits
    per service; one service's failure is counted and the others go on."""
    period = month_before(as_of)
    counts = {"charged": 0, "errors": 0}
    for service_id in charged_services():
        service = session().get(Service, service_id)
        try:
            for overage in overages(service, period):
                if charge(service, period, overage) is not None:
                    counts["charged"] += 1
            session().commit()
        except Exception:  # one service's broken usage must not stop the others
            log.exception("onec: charging service #%s failed", service_id)
            session().rollback()
            counts["errors"] += 1
    return counts


def _queue(row: AdditionalCharge, command: str, reason: str) -> bool:
    """Queue the cloud's ``command`` for the charge's function, once per charge and command."""
    return queue_provisioning(
        row.service,
        CARRIER[command],
        payload={
            COMMAND_KEY: command,
            "values": {"function": row.function, "quantity": row.quantity},
            "reason": reason,
            "charge_id": row.id,
        },
        dedupe_key=f"{MODULE}:{command}:{row.id}",
    )


def block_function(row: AdditionalCharge, reason: str) -> bool:
    """Queue the block of the charge's function (once per charge). Joins."""
    return _queue(row, BLOCK_FUNCTION, reason)


def block_overdue(as_of: date) -> dict[str, int]:
    """Block the function of every open charge whose due date has passed (the first day after
    it: issued on D, due on D + 30, blocked on D + 31). A conditional UPDATE takes each charge,
    so two workers block it once. Only a charge whose invoice is still to pay is blocked: one
    staff cancelled (waived) stays open and unblocked. Commits per charge."""
    counts = {"blocked": 0}
    due = (
        select(AdditionalCharge.id)
        .join(Invoice, Invoice.id == AdditionalCharge.invoice_id)
        .where(
            AdditionalCharge.state == ChargeState.OPEN.value,
            AdditionalCharge.due_date < as_of,
            Invoice.status.in_(TO_PAY),
        )
    )
    for charge_id in list(session().scalars(due.order_by(AdditionalCharge.id))):
        taken = session().execute(
            update(AdditionalCharge)
            .where(
                AdditionalCharge.id == charge_id,
                AdditionalCharge.state == ChargeState.OPEN.value,
            )
            .values(state=ChargeState.BLOCKED.value, blocked_at=now())
        )
        if taken.rowcount != 1:
            session().rollback()
            continue
        row = session().get(AdditionalCharge, charge_id, populate_existing=True)
        block_function(row, UNPAID)
        session().commit()
        counts["blocked"] += 1
    return counts


def run_daily(as_of: date) -> dict[str, int]:
    """The ``onec.charges`` job: charge last month's usage above the tariffs, then block the
    functions of charges unpaid after their days to pay."""
    return {**charge_month(as_of), **block_overdue(as_of)}


def invoice_paid(invoice: Invoice) -> None:
    """A charge's invoice was paid: the charge is paid, and a blocked function is unblocked
    (once). Joins the transaction the payment runs in (the hook's)."""
    rows = session().scalars(
        select(AdditionalCharge).where(
            AdditionalCharge.invoice_id == invoice.id, AdditionalCharge.state.in_(UNSETTLED)
        )
    )
    for row in list(rows):
        was_blocked = row.state == ChargeState.BLOCKED.value
        row.state = ChargeState.PAID.value
        row.paid_at = now()
        if was_blocked:
            _queue(row, UNBLOCK_FUNCTION, PAID)
    session().flush()


def refuse(row: AdditionalCharge, comment: str) -> None:
    """The client refuses the charge: a comment is required; the invoice is cancelled, the
    function blocked (once: a charge already blocked for non-payment stays so) and the charge
    leaves the statistics. Raises :class:`ChargeError`. Commits."""
    comment = (comment or "").strip()
    if not comment:
        raise ChargeError(_("Say why you refuse the charge: a comment is required."))
    if row.state not in UNSETTLED:
        raise ChargeError(_("This charge can no longer be refused."))
    row.state = ChargeState.REFUSED.value
    row.refusal_comment = comment
    row.refused_at = now()
    block_function(row, REFUSED)
    invoice = session().get(Invoice, row.invoice_id) if row.invoice_id else None
    try:
        if invoice is not None:
            cancel_invoice(invoice)  # commits the refusal and the block with it
        else:
            session().commit()
    except InvoiceError as error:
        session().rollback()
        raise ChargeError(str(error)) from None


def move_charges(source_id: int, target_id: int) -> None:
    """A merge of client ``source_id`` into ``target_id``: the charges follow (their services
    and invoices follow in the core). Joins the merge's transaction."""
    session().execute(
        update(AdditionalCharge)
        .where(AdditionalCharge.client_id == source_id)
        .values(client_id=target_id)
    )
