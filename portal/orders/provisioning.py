"""The provisioning queue: module commands for services, run later with retries (DESIGN §5).

Queueing: whoever decides a command queues it in that caller's transaction, so a command is
never lost and never runs for a change that rolled back — :func:`queue_paid` when an invoice
becomes paid (the services and add-ons of a new order, add-ons bought later), :func:`queue_order`
when an order is accepted with nothing to pay, :func:`queue_change` when an upgrade or downgrade
applies, :func:`queue_status_change` when staff suspend, unsuspend or terminate by hand.
Services whose product has no ``module`` need no command: nothing is queued for them.

Running: :func:`run_due` (the ``provisioning.run`` job, every minute) claims due tasks the way
the e-mail outbox does (``portal.core.work_queue``: only one worker wins a task, the claim is
committed), then runs each through the provisioner named by ``task.module`` with no transaction
open, and records its result in a transaction of its own if the claim is still this worker's
(a command may hang for its whole timeout: nothing may be locked meanwhile). The tasks of
one service run in the order they were queued: a task waits while an earlier one of its service
is queued, running or failed (an add-on is never created before its parent). A failure is
retried with exponential backoff; after ``MAX_ATTEMPTS`` the task is failed and the service
marked "provisioning failed" with the message, for staff to :func:`retry` or :func:`mark_done`.
A module that handed the work to someone else raises ``ProvisioningPending``: the task waits
(queued, its message shown, re-checked later) without using up its retries.
Nothing here touches invoices or payments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import monotonic
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, case, exists, func, select
from sqlalchemy.orm import aliased, selectinload

from portal.accounts import audit
from portal.accounts.models import Staff
from portal.catalog.models import Addon, Product
from portal.core import transactions, work_queue
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.core.once import record_once
from portal.invoicing.models import Invoice
from portal.orders.models import (
    Order,
    OrderKind,
    Service,
    ServiceAddon,
    ServiceChange,
    ServiceStatus,
)
from portal.orders.models.provisioning import ProvisioningAction, ProvisioningTask, TaskStatus
from portal.orders.provisioners import (
    ProvisioningContext,
    ProvisioningError,
    ProvisioningPending,
    provisioners,
)

log = logging.getLogger(__name__)

#: With the backoff below the last attempt comes about a quarter of an hour after the first.
MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
#: How long a claimed task stays invisible to other workers while this one runs it: longer than
#: a module's command may take (the disk-space module's timeout is at most an hour). A worker
#: that dies leaves its task to another one after the lease, and the command runs again: a
#: module's commands must be idempotent (docs/plugins.md, section 3.1).
CLAIM_LEASE = timedelta(hours=2)
#: ``Service.provisioning_status`` of a service whose last command failed after its retries.
FAILED = "failed"
#: Tasks that hold back the later tasks of their service.
UNFINISHED = (TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.FAILED)
#: Staff may retry or mark done a task in these states.
ACTIONABLE = (TaskStatus.QUEUED, TaskStatus.FAILED)
#: The payload key counting the runs of a task that ended "pending".
WAITS_KEY = "pending_checks"

#: (status before, status after) of a staff edit -> the command it means.
STATUS_COMMANDS: dict[tuple[ServiceStatus, ServiceStatus], ProvisioningAction] = {
    (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED): ProvisioningAction.SUSPEND,
    (ServiceStatus.SUSPENDED, ServiceStatus.ACTIVE): ProvisioningAction.UNSUSPEND,
    (ServiceStatus.ACTIVE, ServiceStatus.TERMINATED): ProvisioningAction.TERMINATE,
    (ServiceStatus.SUSPENDED, ServiceStatus.TERMINATED): ProvisioningAction.TERMINATE,
    (ServiceStatus.ACTIVE, ServiceStatus.CANCELLED): ProvisioningAction.TERMINATE,
    (ServiceStatus.SUSPENDED, ServiceStatus.CANCELLED): ProvisioningAction.TERMINATE,
}


class ProvisioningQueueError(ValueError):
    """A staff action on the queue that cannot be done; the message is fit to show."""


@dataclass
class RunReport:
    done: int = 0
    retried: int = 0
    failed: int = 0
    #: Checked and still waiting for staff or another system (``ProvisioningPending``).
    waiting: int = 0
    errors: list[str] = field(default_factory=list)


# --- queueing (joins the caller's transaction) --------------------------------------------------


def queue(
    service: Service,
    action: ProvisioningAction,
    *,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    service_addon_id: int | None = None,
) -> ProvisioningTask | None:
    """Queue ``action`` for ``service`` through its product's module (joins the transaction).

    Returns None when the product has no module, or when ``dedupe_key`` was queued before (also
    by a concurrent transaction: the key is inserted with ON CONFLICT DO NOTHING).
    """
    product = service.product or db.session.get(Product, service.product_id)
    if not product.module:
        return None
    db.session.flush()
    now = clock().now()
    values: dict[str, Any] = {
        "service_id": service.id,
        "service_addon_id": service_addon_id,
        "action": action,
        "module": product.module,
        "payload": payload or {},
        "status": TaskStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "finished_by": "",
        "created_at": now,
        "dedupe_key": dedupe_key,
    }
    if dedupe_key is None:
        task = ProvisioningTask(**values)
        db.session.add(task)
        db.session.flush()
        return task
    if not record_once(ProvisioningTask, ["dedupe_key"], **values):
        return None
    return db.session.scalar(
        select(ProvisioningTask).where(ProvisioningTask.dedupe_key == dedupe_key)
    )


def queue_order(order: Order) -> list[ProvisioningTask]:
    """CREATE for every service of a new order, then for its add-ons flagged "activate with
    parent" (they run after the parent's). Once per order and service, however often called."""
    queued = []
    for item in order.items:
        service = db.session.get(Service, item.service_id) if item.service_id else None
        if service is None:
            continue
        task = queue(
            service,
            ProvisioningAction.CREATE,
            payload={"order_id": order.id},
            dedupe_key=f"create:{service.id}:order:{order.id}",
        )
        if task is None:
            continue
        queued.append(task)
        addons = db.session.scalars(
            select(ServiceAddon)
            .join(Addon, Addon.id == ServiceAddon.addon_id)
            .where(
                ServiceAddon.service_id == service.id,
                ServiceAddon.order_id == order.id,
                Addon.activate_with_parent.is_(True),
            )
            .order_by(ServiceAddon.id)
        )
        queued.extend(t for held in addons if (t := queue_addon(service, held)) is not None)
    return queued


def queue_addon(service: Service, held: ServiceAddon) -> ProvisioningTask | None:
    """CREATE for an add-on the service now holds (once per add-on held)."""
    db.session.flush()
    return queue(
        service,
        ProvisioningAction.CREATE,
        payload={"addon_id": held.addon_id, "order_id": held.order_id},
        dedupe_key=f"create:{service.id}:addon:{held.id}",
        service_addon_id=held.id,
    )


def queue_paid(invoice: Invoice) -> None:
    """Commands that wait for ``invoice`` to be paid: the services (and add-ons) of the new
    orders it is the first invoice of, and add-ons bought for a running service. Called from the
    ``invoice_paid`` event (portal/orders/builtin_hooks.py) when the invoice becomes paid."""
    orders = db.session.scalars(
        select(Order)
        .where(Order.invoice_id == invoice.id, Order.kind.in_((OrderKind.NEW, OrderKind.ADDON)))
        .order_by(Order.id)
    )
    for order in orders:
        if order.kind is OrderKind.NEW:
            queue_order(order)
            continue
        for held in db.session.scalars(
            select(ServiceAddon).where(ServiceAddon.order_id == order.id).order_by(ServiceAddon.id)
        ):
            service = db.session.get(Service, held.service_id)
            if service is not None:
                queue_addon(service, held)


def queue_change(change: ServiceChange, service: Service) -> ProvisioningTask | None:
    """CHANGE_PACKAGE for an upgrade/downgrade just applied to ``service`` (run by the new
    product's module), with the old and new product, cycle and options."""
    return queue(
        service,
        ProvisioningAction.CHANGE_PACKAGE,
        payload={
            "change_id": change.id,
            "old_product_id": change.old_product_id,
            "new_product_id": change.new_product_id,
            "old_cycle": change.old_cycle,
            "new_cycle": change.new_cycle,
            "old_options": dict(change.old_options or {}),
            "new_options": dict(change.new_options or {}),
        },
        dedupe_key=f"change:{change.id}",
    )


def queue_status_change(
    service: Service, before: ServiceStatus, after: ServiceStatus, *, reason: str = ""
) -> ProvisioningTask | None:
    """SUSPEND, UNSUSPEND or TERMINATE for a status staff set by hand (nothing for other
    transitions, e.g. a pending service cancelled)."""
    action = STATUS_COMMANDS.get((before, after))
    if action is None:
        return None
    return queue(service, action, payload={"reason": reason, "by": "staff"})


# --- running ------------------------------------------------------------------------------------


def _due(now: datetime) -> ColumnElement[bool]:
    """Queued (or claimed by a worker whose lease ended), due, and first in its service's line."""
    earlier = aliased(ProvisioningTask)
    waiting = exists().where(
        earlier.service_id == ProvisioningTask.service_id,
        earlier.id < ProvisioningTask.id,
        earlier.status.in_(UNFINISHED),
    )
    return (
        ProvisioningTask.status.in_((TaskStatus.QUEUED, TaskStatus.RUNNING))
        & (ProvisioningTask.next_attempt_at <= now)
        & ~waiting
    )


def _claim(now: datetime, limit: int) -> list[int]:
    return work_queue.claim_due(
        ProvisioningTask,
        _due(now),
        now=now,
        limit=limit,
        lease=CLAIM_LEASE,
        claimed={"status": TaskStatus.RUNNING},
    )


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after the n-th failed attempt, at most ``BACKOFF_MAX``."""
    return work_queue.backoff(attempts, BACKOFF_BASE, BACKOFF_MAX)


def run_due(now: datetime | None = None, limit: int = 100) -> RunReport:
    """Run up to ``limit`` due tasks; returns what happened. Safe to run from many workers.

    Tasks are claimed one at a time: a module command may be slow, and a claim's lease should
    cover the task being run, not a batch waiting behind it; several workers share the queue
    task by task. Claiming after each task also lets the add-on waiting for its parent's CREATE
    run in the same call; a task claimed once is not due again at the same ``now``.
    """
    now = now or clock().now()
    report = RunReport()
    started = monotonic()
    for _slot in range(limit):
        # the lease runs from the claim, not from the start of the run: each command before
        # this one may have taken up to its timeout
        elapsed = timedelta(seconds=monotonic() - started)
        claimed = _claim(now + elapsed, 1)
        if not claimed:
            break
        _run_one(claimed[0], now, report)
    return report


def _run_one(task_id: int, now: datetime, report: RunReport) -> None:
    """Run one claimed task in three steps, so that nothing is held while the module works: a
    command may hang for as long as its timeout (an hour), and a row lock or a SQLite write
    transaction held meanwhile would stop the billing run and staff (docs/plugins.md, section
    3.1).

    1. the claim, committed by ``_claim`` before this is called;
    2. the module's command, with no transaction open and autoflush off: what it changes on
       the objects is only written in step 3 (a module that opens a ticket commits that
       itself, and it stays);
    3. the result, in a transaction of its own, if the claim is still this worker's.
    """
    task = db.session.get(ProvisioningTask, task_id)
    service = db.session.get(Service, task.service_id) if task is not None else None
    if task is None or service is None:
        db.session.rollback()
        return
    claimed_attempt = task.attempts
    outcome: Exception | None = None
    with db.session.no_autoflush:
        try:
            command = _command(task)
            context = context_for(task)
            transactions.end_read_transaction()
            command(service, context)
        except Exception as error:  # a module's failure is the task's, never the caller's
            outcome = error
    if outcome is not None and not isinstance(outcome, ProvisioningPending):
        db.session.rollback()  # what the module changed goes with its failure
    _record(task_id, claimed_attempt, now, outcome, report)


def _command(task: ProvisioningTask) -> Callable[[Service, ProvisioningContext], None]:
    provisioner = provisioners().get(task.module)
    if provisioner is None:
        raise ProvisioningError(
            _("module %(module)s is not installed or not enabled", module=task.module)
        )
    return getattr(provisioner, task.action.value)


def _record(
    task_id: int,
    claimed_attempt: int,
    now: datetime,
    outcome: Exception | None,
    report: RunReport,
) -> None:
    """Step 3 of ``_run_one``: the task's row is taken first, then the result is written only
    if this worker still holds the claim; after a lease that ended mid-command another worker
    has taken the task, and its result is the one that counts."""
    transactions.lock_row(ProvisioningTask.__table__, task_id)  # writes the module's changes
    task = db.session.get(ProvisioningTask, task_id, populate_existing=True)
    if task is None or task.status is not TaskStatus.RUNNING or task.attempts != claimed_attempt:
        log.warning("provisioning task #%s: the claim ended while it ran; result dropped", task_id)
        db.session.rollback()
        return
    service = db.session.get(Service, task.service_id)
    db.session.refresh(service)  # what others committed while the command ran, and ours
    if outcome is None:
        _finish(task, service, now)
        report.done += 1
    elif isinstance(outcome, ProvisioningPending):
        _waiting(task, now, outcome, report)
    else:
        _failed(task, service, now, outcome, report)
    db.session.commit()


def context_for(task: ProvisioningTask) -> ProvisioningContext:
    """The context a provisioner gets for ``task`` (objects loaded from the payload)."""
    payload = dict(task.payload or {})

    def product(key: str) -> Product | None:
        value = payload.get(key)
        return db.session.get(Product, value) if value else None

    def options(key: str) -> dict[int, int]:
        return {int(k): int(v) for k, v in (payload.get(key) or {}).items()}

    addon = db.session.get(ServiceAddon, task.service_addon_id) if task.service_addon_id else None
    return ProvisioningContext(
        task_id=task.id,
        action=task.action,
        attempt=task.attempts,
        payload=payload,
        service_addon=addon,
        old_product=product("old_product_id"),
        new_product=product("new_product_id"),
        old_cycle=payload.get("old_cycle"),
        new_cycle=payload.get("new_cycle"),
        old_options=options("old_options"),
        new_options=options("new_options"),
    )


def error_text(error: BaseException) -> str:
    """What staff read: a module's own message as is, anything else with its type."""
    if isinstance(error, ProvisioningError):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


def _failed(
    task: ProvisioningTask,
    service: Service,
    now: datetime,
    error: BaseException,
    report: RunReport,
) -> None:
    message = error_text(error)[:2000]
    if isinstance(error, ProvisioningError):
        log.warning("provisioning task #%s (%s) failed: %s", task.id, task.module, message)
    else:
        log.error("provisioning task #%s (%s) failed", task.id, task.module, exc_info=error)
    task.last_error = message
    if task.attempts - _waits(task) >= MAX_ATTEMPTS:
        task.status = TaskStatus.FAILED
        service.provisioning_status = FAILED
        service.provisioning_error = message
        report.failed += 1
    else:
        task.status = TaskStatus.QUEUED
        task.next_attempt_at = now + backoff(task.attempts)
        report.retried += 1
    report.errors.append(f"#{task.id}: {message}")


def _waits(task: ProvisioningTask) -> int:
    """Runs of ``task`` that ended "pending": they do not count against its retries."""
    return int((task.payload or {}).get(WAITS_KEY, 0))


def _waiting(
    task: ProvisioningTask, now: datetime, pending: ProvisioningPending, report: RunReport
) -> None:
    """The module handed the work on: keep what it wrote, check again later."""
    task.status = TaskStatus.QUEUED
    task.next_attempt_at = now + pending.recheck_after
    task.last_error = (str(pending) or type(pending).__name__)[:2000]
    task.payload = {**(task.payload or {}), WAITS_KEY: _waits(task) + 1}  # a new dict for JSON
    report.waiting += 1


def _finish(task: ProvisioningTask, service: Service, now: datetime, by: str = "") -> None:
    """Done (run, or marked by staff): a created service is active, a failure is cleared."""
    task.status = TaskStatus.DONE
    task.finished_at = now
    task.finished_by = by
    if task.action is ProvisioningAction.CREATE and service.status is ServiceStatus.PENDING:
        service.status = ServiceStatus.ACTIVE
    db.session.flush()
    still_failed = db.session.scalar(
        select(ProvisioningTask.id).where(
            ProvisioningTask.service_id == service.id,
            ProvisioningTask.status == TaskStatus.FAILED,
        )
    )
    if still_failed is None:
        service.provisioning_status = ""
        service.provisioning_error = ""


# --- staff actions (audited, committed) ---------------------------------------------------------


def _actionable(task: ProvisioningTask) -> Service:
    if task.status not in ACTIONABLE:
        raise ProvisioningQueueError(_("Only a failed or waiting command can be changed."))
    return db.session.get(Service, task.service_id)


def _snapshot(task: ProvisioningTask) -> dict[str, Any]:
    return {
        "status": task.status,
        "attempts": task.attempts,
        "next_attempt_at": task.next_attempt_at,
        "last_error": task.last_error,
    }


def retry(task: ProvisioningTask, staff: Staff) -> ProvisioningTask:
    """Queue a failed (or backing-off) task again, due now, with a fresh round of attempts."""
    service = _actionable(task)
    before = _snapshot(task)
    task.status = TaskStatus.QUEUED
    task.attempts = 0
    task.payload = {k: v for k, v in (task.payload or {}).items() if k != WAITS_KEY}
    task.next_attempt_at = clock().now()
    _audit("provisioning.retry", task, service, before, staff)
    db.session.commit()
    return task


def mark_done(task: ProvisioningTask, staff: Staff) -> ProvisioningTask:
    """Staff did the command by hand: the task is done and the service's failure cleared."""
    service = _actionable(task)
    before = _snapshot(task)
    _finish(task, service, clock().now(), by=staff.full_name)
    _audit("provisioning.mark_done", task, service, before, staff)
    db.session.commit()
    return task


def _audit(
    action: str, task: ProvisioningTask, service: Service, before: dict[str, Any], staff: Staff
) -> None:
    audit.record(
        action,
        "provisioning_task",
        task.id,
        client_id=service.client_id,
        before=before,
        after=_snapshot(task),
        note=f"{task.action.value} ({task.module})",
    )


# --- what staff see -----------------------------------------------------------------------------


def failed_count() -> int:
    return (
        db.session.scalar(
            select(func.count(ProvisioningTask.id)).where(
                ProvisioningTask.status == TaskStatus.FAILED
            )
        )
        or 0
    )


def tasks_query(status: TaskStatus | None = None) -> Select[tuple[ProvisioningTask]]:
    """The queue page: failed first, then waiting, then the rest; newest first within each."""
    rank = case(
        (ProvisioningTask.status == TaskStatus.FAILED, 0),
        (ProvisioningTask.status.in_((TaskStatus.QUEUED, TaskStatus.RUNNING)), 1),
        else_=2,
    )
    stmt = select(ProvisioningTask).order_by(rank, ProvisioningTask.id.desc())
    if status is not None:
        stmt = stmt.where(ProvisioningTask.status == status)
    return stmt


def recent_tasks(service_id: int, limit: int = 10) -> Sequence[ProvisioningTask]:
    return db.session.scalars(
        select(ProvisioningTask)
        .where(ProvisioningTask.service_id == service_id)
        .order_by(ProvisioningTask.id.desc())
        .limit(limit)
    ).all()


def services_of(tasks: Iterable[ProvisioningTask]) -> dict[int, Service]:
    """The services (with client and product) of ``tasks``, in one query."""
    ids = {task.service_id for task in tasks}
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Service)
        .where(Service.id.in_(ids))
        .options(selectinload(Service.client), selectinload(Service.product))
    )
    return {service.id: service for service in rows}
