"""Overdue services: a warning before suspension, suspension, termination, and unsuspension
when the client pays; termination at the end of the paid period when staff asked for it.

A service is as overdue as the oldest unpaid issued invoice that has a line for it. It is
suspended ``suspend_after_days`` days overdue and terminated ``terminate_after_days`` days
overdue (settings; a product's own value wins; 0 means never), warned
``suspension_warning_days`` before suspension, unless the client is "never suspend" or the
client or the service has a "do not suspend until" date that has not passed. Every action is an
``overdue_action`` row, unique per (service, action, date), inserted in the transaction that
changes the service, queues the module command and the mail and fires the event: running the
job twice, or on two workers at once, acts once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from portal.accounts import audit
from portal.accounts.models import Client
from portal.catalog.models import Product
from portal.core.app_state import clock
from portal.core.clock import today
from portal.core.extensions import db
from portal.core.once import record_once
from portal.invoicing.dunning import invoice_link, setting_int
from portal.invoicing.models import Invoice, InvoiceLine, InvoiceStatus
from portal.invoicing.models.automation import OverdueAction, OverdueActionKind
from portal.messaging import templates
from portal.orders import provisioning
from portal.orders.models import Service
from portal.orders.models.provisioning import ProvisioningAction
from portal.orders.models.service import ServiceStatus
from portal.platform.hooks import events

log = logging.getLogger(__name__)

DEFAULT_SUSPEND_AFTER_DAYS = 10
DEFAULT_SUSPENSION_WARNING_DAYS = 3
DEFAULT_TERMINATE_AFTER_DAYS = 60
#: ``Service.suspension_reason`` of an automatic suspension; only these are lifted on payment.
OVERDUE = "overdue"
#: Invoices that keep a service overdue while unpaid.
OWED = (InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.COLLECTIONS)
#: Services the overdue automation acts on.
RUNNING = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)


@dataclass(frozen=True)
class OverduePolicy:
    suspend_after_days: int = DEFAULT_SUSPEND_AFTER_DAYS
    suspension_warning_days: int = DEFAULT_SUSPENSION_WARNING_DAYS
    terminate_after_days: int = DEFAULT_TERMINATE_AFTER_DAYS

    def for_product(self, product: Product) -> tuple[int, int]:
        """(suspend after, terminate after) days for ``product``: its own values win."""
        suspend, terminate = product.suspend_after_days, product.terminate_after_days
        return (
            self.suspend_after_days if suspend is None else suspend,
            self.terminate_after_days if terminate is None else terminate,
        )

    def next_action(
        self,
        status: ServiceStatus,
        days: int,
        suspend_after: int,
        terminate_after: int,
        warned: bool,
    ) -> OverdueActionKind | None:
        """What is due for a service ``days`` overdue (``warned`` already in this episode)."""
        if terminate_after > 0 and days >= terminate_after:
            return OverdueActionKind.TERMINATE
        if status is not ServiceStatus.ACTIVE or suspend_after <= 0:
            return None
        if days >= suspend_after:
            return OverdueActionKind.SUSPEND
        warning = self.suspension_warning_days
        if warning > 0 and days >= suspend_after - warning and not warned:
            return OverdueActionKind.SUSPENSION_WARNING
        return None


def overdue_policy() -> OverduePolicy:
    return OverduePolicy(
        suspend_after_days=setting_int("suspend_after_days", DEFAULT_SUSPEND_AFTER_DAYS),
        suspension_warning_days=setting_int(
            "suspension_warning_days", DEFAULT_SUSPENSION_WARNING_DAYS
        ),
        terminate_after_days=setting_int("terminate_after_days", DEFAULT_TERMINATE_AFTER_DAYS),
    )


def protected(service: Service, client: Client, as_of: date) -> bool:
    """Staff said not to cut this service off automatically (now)."""
    return (
        client.never_suspend
        or (client.no_suspend_until is not None and client.no_suspend_until >= as_of)
        or (service.no_suspend_until is not None and service.no_suspend_until >= as_of)
    )


def _oldest_unpaid(as_of: date) -> Any:
    """Per service: the due date of its oldest unpaid invoice past due on ``as_of``."""
    return (
        select(InvoiceLine.service_id, func.min(Invoice.due_date).label("due"))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.service_id.is_not(None),
            Invoice.status.in_(OWED),
            Invoice.due_date < as_of,
        )
        .group_by(InvoiceLine.service_id)
        .subquery()
    )


def oldest_unpaid_invoice(service_id: int, as_of: date) -> Invoice | None:
    return db.session.scalar(
        select(Invoice)
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(
            InvoiceLine.service_id == service_id,
            Invoice.status.in_(OWED),
            Invoice.due_date < as_of,
        )
        .order_by(Invoice.due_date, Invoice.id)
        .limit(1)
    )


# --- the daily job ------------------------------------------------------------------------------


def process_overdue(as_of: date) -> dict[str, int]:
    """Warn, suspend and terminate overdue services, and terminate services whose paid period
    ended with "terminate at period end". Commits per service; returns the counts."""
    policy = overdue_policy()
    counts = {"warned": 0, "suspended": 0, "terminated": 0, "errors": 0}
    oldest = _oldest_unpaid(as_of)
    rows = db.session.execute(
        select(Service.id, Service.status, Service.product_id, oldest.c.due)
        .join(oldest, oldest.c.service_id == Service.id)
        .where(Service.status.in_(RUNNING))
        .order_by(Service.id)
    ).all()
    warned: dict[int, date] = dict(
        db.session.execute(
            select(OverdueAction.service_id, func.max(OverdueAction.action_date))
            .where(
                OverdueAction.action == OverdueActionKind.SUSPENSION_WARNING,
                OverdueAction.service_id.in_(select(oldest.c.service_id)),
            )
            .group_by(OverdueAction.service_id)
        ).all()
    )
    days_of = {
        product.id: policy.for_product(product) for product in db.session.scalars(select(Product))
    }
    for service_id, status, product_id, due in rows:
        last_warning = warned.get(service_id)
        warned_now = last_warning is not None and last_warning >= due
        days = (as_of - due).days
        if policy.next_action(status, days, *days_of[product_id], warned_now) is None:
            continue  # nothing due today: no lock, no transaction
        _isolated(counts, _act_on_overdue, service_id, days, warned_now, policy, as_of)
    ending = db.session.scalars(
        select(Service.id)
        .where(
            Service.status.in_(RUNNING),
            Service.terminate_at_period_end.is_(True),
            Service.next_due_date <= as_of,
        )
        .order_by(Service.id)
    ).all()
    for service_id in ending:
        _isolated(counts, _end_of_period, service_id, as_of)
    return counts


def _isolated(counts: dict[str, int], work: Callable[..., str | None], *args: Any) -> None:
    """One service's actions in one transaction; a failure is logged and counted, and the run
    goes on with the next service."""
    try:
        done = work(*args)
        db.session.commit()
    except Exception:  # one broken service (a template, a plugin) must not stop the run
        db.session.rollback()
        log.exception("overdue automation failed")
        counts["errors"] += 1
    else:
        if done is not None:
            counts[done] += 1


def _locked(service_id: int) -> Service | None:
    """The service, its row locked until the transaction ends (PostgreSQL; SQLite has one
    writer at a time): a concurrent run waits, then sees what this one did."""
    return db.session.scalar(select(Service).where(Service.id == service_id).with_for_update())


def _act_on_overdue(
    service_id: int, days: int, warned: bool, policy: OverduePolicy, as_of: date
) -> str | None:
    service = _locked(service_id)
    if service is None or service.status not in RUNNING:
        return None
    client = db.session.get(Client, service.client_id)
    if protected(service, client, as_of):
        return None
    suspend_after, terminate_after = policy.for_product(service.product)
    action = policy.next_action(service.status, days, suspend_after, terminate_after, warned)
    invoice = oldest_unpaid_invoice(service.id, as_of)
    if action is None or invoice is None:  # nothing to do, or paid meanwhile
        return None
    if action is OverdueActionKind.TERMINATE:
        return "terminated" if terminate(service, as_of=as_of, reason=OVERDUE) else None
    if action is OverdueActionKind.SUSPEND:
        done = suspend(service, as_of=as_of, reason=OVERDUE, invoice=invoice, days=days)
        return "suspended" if done else None
    if client.no_overdue_notices:
        return None
    done = _warn(service, as_of, invoice, days, suspend_after)
    return "warned" if done else None


def _end_of_period(service_id: int, as_of: date) -> str | None:
    service = _locked(service_id)
    if service is None or service.status not in RUNNING or not service.terminate_at_period_end:
        return None
    done = terminate(service, as_of=as_of, reason=service.termination_reason or "period_end")
    return "terminated" if done else None


# --- actions (each joins the caller's transaction) ----------------------------------------------


def _claim(service: Service, action: OverdueActionKind, as_of: date) -> bool:
    return record_once(
        OverdueAction,
        ("service_id", "action", "action_date"),
        service_id=service.id,
        action=action,
        action_date=as_of,
        created_at=clock().now(),
    )


#: Fields of a service the actions change, audited before and after.
STATE_FIELDS = (
    "status",
    "suspended_at",
    "suspension_reason",
    "terminated_at",
    "termination_reason",
)


def _set_state(service: Service, command: ProvisioningAction, as_of: date, **fields: Any) -> None:
    """Change the service, queue the module's command once for the day, audit the change."""
    before = audit.snapshot(service, STATE_FIELDS)
    for name, value in fields.items():
        setattr(service, name, value)
    provisioning.queue(service, command, dedupe_key=f"{command.value}:{service.id}:{as_of}")
    audit.record(
        f"service.{command.value}",
        "service",
        service.id,
        client_id=service.client_id,
        before=before,
        after=audit.snapshot(service, STATE_FIELDS),
    )


def _mail(name: str, service: Service, as_of: date, **variables: Any) -> None:
    client = db.session.get(Client, service.client_id)
    templates.send(
        name,
        client,
        dedupe_key=f"{name}:{service.id}:{as_of.isoformat()}",
        service=service,
        **variables,
    )


def _warn(service: Service, as_of: date, invoice: Invoice, days: int, suspend_after: int) -> bool:
    if not _claim(service, OverdueActionKind.SUSPENSION_WARNING, as_of):
        return False
    _mail(
        "suspension_warning",
        service,
        as_of,
        invoice=invoice,
        days=days,
        days_left=suspend_after - days,
        invoice_link=invoice_link(invoice),
    )
    return True


def suspend(
    service: Service,
    *,
    as_of: date,
    reason: str,
    invoice: Invoice | None = None,
    days: int = 0,
) -> bool:
    """Suspend an active service (queue the module command, fire ``service_suspended``, mail
    the client); False if it was suspended on ``as_of`` before."""
    if service.status is not ServiceStatus.ACTIVE or not _claim(
        service, OverdueActionKind.SUSPEND, as_of
    ):
        return False
    _set_state(
        service,
        ProvisioningAction.SUSPEND,
        as_of,
        status=ServiceStatus.SUSPENDED,
        suspended_at=_moment(as_of),
        suspension_reason=reason,
    )
    events.fire("service_suspended", service=service, reason=reason)
    _mail(
        "service_suspended",
        service,
        as_of,
        invoice=invoice,
        days=days,
        invoice_link=invoice_link(invoice) if invoice is not None else "",
    )
    return True


def terminate(service: Service, *, as_of: date, reason: str) -> bool:
    """Terminate an active or suspended service (module command, ``service_terminated``, mail);
    False if it was terminated on ``as_of`` before."""
    if service.status not in RUNNING or not _claim(service, OverdueActionKind.TERMINATE, as_of):
        return False
    _set_state(
        service,
        ProvisioningAction.TERMINATE,
        as_of,
        status=ServiceStatus.TERMINATED,
        terminated_at=_moment(as_of),
        termination_reason=reason,
    )
    events.fire("service_terminated", service=service)
    _mail("service_terminated", service, as_of, overdue=reason == OVERDUE)
    return True


def unsuspend(service: Service, *, as_of: date) -> bool:
    """Reactivate a suspended service (module command, ``service_unsuspended``, mail)."""
    if service.status is not ServiceStatus.SUSPENDED:
        return False
    _claim(service, OverdueActionKind.UNSUSPEND, as_of)  # the status is the guard; this is history
    _set_state(
        service,
        ProvisioningAction.UNSUSPEND,
        as_of,
        status=ServiceStatus.ACTIVE,
        suspended_at=None,
        suspension_reason="",
    )
    events.fire("service_unsuspended", service=service)
    _mail("service_unsuspended", service, as_of)
    return True


def unsuspend_paid(invoice: Invoice) -> list[Service]:
    """Reactivate the services on a just-paid invoice that were suspended for non-payment and
    owe nothing else overdue. Joins the paying transaction."""
    service_ids = {line.service_id for line in invoice.lines if line.service_id is not None}
    if not service_ids:
        return []
    as_of = today()
    still_overdue = (
        select(InvoiceLine.service_id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.service_id.in_(service_ids),
            Invoice.id != invoice.id,
            Invoice.status.in_(OWED),
            Invoice.due_date < as_of,
        )
    )
    services = db.session.scalars(
        select(Service)
        .where(
            Service.id.in_(service_ids),
            Service.status == ServiceStatus.SUSPENDED,
            Service.suspension_reason == OVERDUE,
            Service.id.not_in(still_overdue),
        )
        .order_by(Service.id)
        .with_for_update()
    ).all()
    return [service for service in services if unsuspend(service, as_of=as_of)]


def _moment(as_of: date) -> datetime:
    """When an action on ``as_of`` happened: now, or this time of day on ``as_of`` when the job
    runs for another date (a catch-up or a dry run)."""
    now = clock().now()
    if today() == as_of:
        return now
    return datetime.combine(as_of, now.timetz())
