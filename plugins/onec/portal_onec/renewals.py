"""The renewal queue (Продление): licences and 1C services whose period ends soon, as managers'
work items.

* The daily job ``onec.renewals`` queues every running service of Module ``onec`` whose period
  ends within its product's renewal window (product field, 40–60 days, default 60): a licence
  whose last day is 31 March is queued on 30 January, not on 29 January. Periods no longer
  than the window (monthly tariffs) are left to the billing run: they would never leave it.
  The item is unique per (service, last day of the period), so the job run twice — or by two
  schedulers — queues once. It is assigned to the client's manager.
* Managers record outcomes (``portal_onec.outcomes``) with a comment — required for a refusal —
  and a date to call again; on that date the manager gets a reminder by mail (once per date).
* Automatic transitions, by the same job (an as-of date, so tests and dry runs move time) and
  by hooks:

  - paid: an invoice line for a later period of the service is paid (``invoice_paid``; the job
    also looks, in case the plugin was off) → ``renewed``, the item leaves the queue, with the
    amount the renewal brought;
  - unpaid when the period has ended (the day after its last day) → ``not_renewed``
    (Непродлённые), still listed first until paid or closed;
  - a refusal → ``terminated`` (Расторгнутые): the service is set to end with its period
    through the portal (``terminate_at_period_end``: no more renewals, terminated on its due
    date by the portal's automation, with the module's command). A later keeping outcome
    before that date withdraws it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.plugin_api import (
    Client,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Product,
    Service,
    ServiceStatus,
    Staff,
    email_staff,
    external_url,
    keep_after_period_end,
    now,
    product_values,
    savepoint,
    session,
    staff_locale,
    terminate_at_period_end,
    today,
)
from portal_onec.outcomes import Outcome
from portal_onec.renewal_models import IN_WORK, OutcomeRecord, Renewal, RenewalState

PLUGIN = "onec"
DEFAULT_WINDOW = 60
WINDOW_RANGE = (40, 60)
#: Services in these states are queued (a suspended one may still be renewed).
RUNNING = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)


class RenewalError(ValueError):
    """An outcome that cannot be recorded; the message is fit to show staff."""


def window_days(product: Product) -> int:
    """The product's renewal window: days before the last day of the period (40–60)."""
    value = product_values(product, PLUGIN).get("renewal_window_days", DEFAULT_WINDOW)
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_WINDOW
    return min(max(days, WINDOW_RANGE[0]), WINDOW_RANGE[1])


def last_day(service: Service) -> date | None:
    """The last day of the service's current period (its next due date is the day after)."""
    return service.next_due_date - timedelta(days=1) if service.next_due_date else None


# --- the daily job ------------------------------------------------------------------------------


def run_daily(as_of: date) -> dict[str, int]:
    """The ``onec.renewals`` job: queue what comes into the window, apply the automatic
    transitions and remind managers. Each step commits its own work; re-running the job for
    the same date changes nothing."""
    counts = {"queued": queue_due(as_of)}
    counts["renewed"] = settle_paid(as_of)
    counts["not_renewed"] = close_unpaid(as_of)
    counts["reminded"] = remind_managers(as_of)
    return counts


def queue_due(as_of: date) -> int:
    """Queue every running ``onec`` service whose period ends within its window from
    ``as_of``, once per (service, period). Commits; returns how many were queued."""
    horizon = as_of + timedelta(days=WINDOW_RANGE[1] + 1)
    rows = (
        session()
        .execute(
            select(Service, Client.manager_id)
            .join(Product, Product.id == Service.product_id)
            .join(Client, Client.id == Service.client_id)
            .where(
                Product.module == PLUGIN,
                Service.status.in_(RUNNING),
                Service.terminate_at_period_end.is_(False),
                Service.next_due_date.is_not(None),
                Service.next_due_date <= horizon,
            )
            .order_by(Service.id)
        )
        .all()
    )
    windows: dict[int, int] = {}
    queued = 0
    for service, manager_id in rows:
        end = last_day(service)
        if service.product_id not in windows:
            windows[service.product_id] = window_days(service.product)
        window = windows[service.product_id]
        if end is None or (end - as_of).days > window or _too_short(service, window):
            continue
        if _queue_one(service, end, manager_id, as_of):
            queued += 1
    session().commit()
    return queued


def _too_short(service: Service, window: int) -> bool:
    """A period no longer than the window (a monthly tariff) would be in the queue all its life:
    such services renew by the billing run alone and are not queued."""
    if service.period_start is None or service.next_due_date is None:
        return False
    return (service.next_due_date - service.period_start).days <= window


def _queue_one(service: Service, end: date, manager_id: int | None, as_of: date) -> bool:
    exists = session().scalar(
        select(Renewal.id).where(Renewal.service_id == service.id, Renewal.period_end == end)
    )
    if exists is not None:
        return False
    item = Renewal(
        service_id=service.id,
        client_id=service.client_id,
        period_end=end,
        manager_id=manager_id,
        state=RenewalState.OPEN.value,
        currency=service.currency,
        queued_on=as_of,
        created_at=now(),
    )
    try:
        with savepoint():  # another worker queued it meanwhile: the unique key says so
            session().add(item)
            session().flush()
    except IntegrityError:
        return False
    return True


def _paid_renewal_lines(service_ids: Iterable[int]) -> dict[int, list[tuple[date, int, Decimal]]]:
    """Paid invoice lines of the services that bill a period: (period start, invoice, total)."""
    ids = list(service_ids)
    if not ids:
        return {}
    rows = (
        session()
        .execute(
            select(InvoiceLine.service_id, InvoiceLine.period_start, Invoice.id, InvoiceLine.total)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(
                InvoiceLine.service_id.in_(ids),
                InvoiceLine.period_start.is_not(None),
                Invoice.status == InvoiceStatus.PAID,
            )
        )
        .all()
    )
    found: dict[int, list[tuple[date, int, Decimal]]] = {}
    for service_id, start, invoice_id, total in rows:
        found.setdefault(service_id, []).append((start, invoice_id, total))
    return found


def _renew(item: Renewal, lines: list[tuple[date, int, Decimal]], as_of: date) -> bool:
    """Mark the item renewed when one of the paid lines bills a period after its own."""
    later = [(invoice_id, total) for start, invoice_id, total in lines if start > item.period_end]
    if not later:
        return False
    invoice_id = min(invoice_id for invoice_id, _total in later)
    item.invoice_id = invoice_id
    item.revenue = sum((total for i, total in later if i == invoice_id), Decimal(0))
    item.state, item.closed_on = RenewalState.RENEWED.value, as_of
    return True


def settle_paid(as_of: date) -> int:
    """Items in work whose next period is paid leave the queue as renewed (the ``invoice_paid``
    hook does this at once; this catches payments made while the plugin was off). Commits."""
    items = session().scalars(select(Renewal).where(Renewal.state.in_(IN_WORK))).all()
    lines = _paid_renewal_lines({item.service_id for item in items})
    done = sum(_renew(item, lines.get(item.service_id, []), as_of) for item in items)
    session().commit()
    return done


def close_unpaid(as_of: date) -> int:
    """Open items whose period has ended (``as_of`` is past its last day) unpaid become not
    renewed (Непродлённые). Commits."""
    items = (
        session()
        .scalars(
            select(Renewal).where(
                Renewal.state == RenewalState.OPEN.value, Renewal.period_end < as_of
            )
        )
        .all()
    )
    for item in items:
        item.state, item.closed_on = RenewalState.NOT_RENEWED.value, as_of
    session().commit()
    return len(items)


def remind_managers(as_of: date) -> int:
    """Mail each item's manager on its next-contact date (or the first run after it): once per
    item and date (``reminded_for``; the outbox's dedupe key too, for two runs at once).
    Commits; returns the letters queued."""
    items = (
        session()
        .scalars(
            select(Renewal)
            .where(
                Renewal.state.in_(IN_WORK),
                Renewal.next_contact.is_not(None),
                Renewal.next_contact <= as_of,
                Renewal.manager_id.is_not(None),
                or_(Renewal.reminded_for.is_(None), Renewal.reminded_for != Renewal.next_contact),
            )
            .order_by(Renewal.id)
        )
        .all()
    )
    sent = 0
    for item in items:
        manager = item.manager
        if manager is None:
            continue
        key = f"onec:renewal-reminder:{item.id}:{item.next_contact.isoformat()}"
        with staff_locale(manager):
            subject = _(
                "Renewal: call %(client)s about %(product)s",
                client=item.client.display_name,
                product=item.service.product.name,
            )
            text = "\n".join(
                [
                    _(
                        "Today you planned to contact %(client)s about the renewal of "
                        "%(product)s, whose period ends on %(end)s.",
                        client=item.client.display_name,
                        product=item.service.product.name,
                        end=item.period_end.strftime("%d.%m.%Y"),
                    ),
                    *(
                        [_("Last comment: %(comment)s", comment=item.comment)]
                        if item.comment
                        else []
                    ),
                    "",
                    external_url("onec_renewals.item", renewal_id=item.id),
                ]
            )
        email_staff(manager, subject=subject, text=text, dedupe_key=key)
        item.reminded_for = item.next_contact
        sent += 1
    session().commit()
    return sent


# --- outcomes -------------------------------------------------------------------------------------


def record_outcome(
    item: Renewal,
    outcome: Outcome | str,
    *,
    comment: str = "",
    next_contact: date | None = None,
    staff: Staff | None = None,
) -> OutcomeRecord:
    """Record what a manager's contact came to. A refusal needs a comment and sets the service
    to end with its period (the item becomes terminated); a keeping outcome on a terminated
    item whose period has not ended withdraws that. Raises :class:`RenewalError`. Commits."""
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise RenewalError(_("Choose an outcome from the list.")) from None
    comment = (comment or "").strip()
    if outcome.is_refusal and not comment:
        raise RenewalError(_("A refusal needs a comment: write why the client does not renew."))
    if item.renewal_state is RenewalState.RENEWED:
        raise RenewalError(_("This renewal is already paid; there is nothing to record."))
    if next_contact is not None and next_contact < today():
        raise RenewalError(_("The next contact date cannot be in the past."))
    record = OutcomeRecord(
        client_id=item.client_id,
        service_id=item.service_id,
        renewal_id=item.id,
        outcome=outcome.value,
        comment=comment,
        next_contact=next_contact,
        staff_id=staff.id if staff is not None else None,
        recorded_at=now(),
    )
    session().add(record)
    item.outcome, item.comment, item.next_contact = outcome.value, comment, next_contact
    service = item.service
    if outcome.is_refusal:
        item.state, item.closed_on = RenewalState.TERMINATED.value, today()
        reason = f"onec:{outcome.value}: {comment}"
        if not terminate_at_period_end(service, reason=reason):  # commits when it changes
            session().commit()
        return record
    if item.renewal_state is RenewalState.TERMINATED:
        ended = item.period_end < today()
        item.state = (RenewalState.NOT_RENEWED if ended else RenewalState.OPEN).value
        item.closed_on = today() if ended else None
        if not ended and keep_after_period_end(service):  # commits
            return record
    session().commit()
    return record


def reassign(item: Renewal, manager: Staff | None) -> None:
    """Hand the item to another manager (or to nobody). Commits."""
    item.manager_id = manager.id if manager is not None else None
    session().commit()


def move_client(source_id: int, target_id: int) -> None:
    """A merge of client ``source_id`` into ``target_id``: its queue items and its history of
    outcomes follow (their services move with the core's). Joins the merge's transaction."""
    for model in (Renewal, OutcomeRecord):
        session().execute(
            update(model).where(model.client_id == source_id).values(client_id=target_id)
        )


# --- hooks --------------------------------------------------------------------------------------


def on_service_renewed(service: Service, period_start: date, invoice: Invoice) -> None:
    """The billing run put the next period on an invoice: remember it on the item of the
    period that ends (shown to the manager). Joins the hook's transaction."""
    item = session().scalar(
        select(Renewal).where(
            Renewal.service_id == service.id,
            Renewal.period_end == period_start - timedelta(days=1),
        )
    )
    if item is not None and item.invoice_id is None:
        item.invoice_id = invoice.id


def on_invoice_paid(invoice: Invoice) -> None:
    """An invoice is paid: items in work whose service it renews leave the queue. Joins the
    hook's transaction."""
    service_ids = {line.service_id for line in invoice.lines if line.service_id is not None}
    if not service_ids:
        return
    items = (
        session()
        .scalars(
            select(Renewal).where(Renewal.service_id.in_(service_ids), Renewal.state.in_(IN_WORK))
        )
        .all()
    )
    if not items:
        return
    lines: dict[int, list[tuple[date, int, Decimal]]] = {}
    for line in invoice.lines:
        if line.service_id is not None and line.period_start is not None:
            lines.setdefault(line.service_id, []).append(
                (line.period_start, invoice.id, line.total)
            )
    for item in items:
        _renew(item, lines.get(item.service_id, []), today())


# --- reading ------------------------------------------------------------------------------------


def queue_query(
    *,
    states: Iterable[str] = tuple(s.value for s in IN_WORK),
    manager_id: int | None = None,
    outcome: str | None = None,
    as_of: date | None = None,
) -> Any:
    """The queue as staff filter it: ended periods first (the most overdue on top), then by the
    last day of the period."""
    as_of = as_of or today()
    ended = Renewal.period_end < as_of
    query = (
        select(Renewal)
        .where(Renewal.state.in_(list(states)))
        .options(joinedload(Renewal.service).joinedload(Service.product))
    )
    if manager_id is not None:
        query = query.where(Renewal.manager_id == manager_id)
    if outcome == "none":
        query = query.where(Renewal.outcome.is_(None))
    elif outcome:
        query = query.where(Renewal.outcome == outcome)
    return query.order_by(ended.desc(), Renewal.period_end, Renewal.id)


def renewals_of(client_id: int) -> list[Renewal]:
    """The client's queue items, the latest period first (the client card's 1C tab)."""
    query = select(Renewal).where(Renewal.client_id == client_id)
    return list(session().scalars(query.order_by(Renewal.period_end.desc(), Renewal.id.desc())))


def history(client_id: int, *, service_id: int | None = None) -> list[OutcomeRecord]:
    """The outcomes recorded for a client (or one of its services), newest first."""
    query = select(OutcomeRecord).where(OutcomeRecord.client_id == client_id)
    if service_id is not None:
        query = query.where(OutcomeRecord.service_id == service_id)
    return list(session().scalars(query.order_by(OutcomeRecord.id.desc())))


def in_work_count(manager_id: int | None = None) -> int:
    query = select(func.count(Renewal.id)).where(Renewal.state.in_([s.value for s in IN_WORK]))
    if manager_id is not None:
        query = query.where(Renewal.manager_id == manager_id)
    return session().scalar(query) or 0
