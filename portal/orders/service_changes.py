"""Upgrades and downgrades of a service, and the staff edits of a service.

A change is a product (along the catalogue's upgrade paths), a billing cycle, or option values
(the client chooses the FINAL quantity: 6 users, not "+1"). :func:`preview` asks
``billing.quote_change`` for the credit of the unused part of the old price, the charge of the
new price over the same remaining days, the days used/remaining/total and the convention; it
never crashes on bad input, every problem is a :class:`ChangeError` with a message to show.

:func:`confirm` records a change order and a :class:`ServiceChange`. When money is due, it issues
an invoice co-terminated with the service (from the change date to the end of the current
period) for exactly the previewed difference, and the change applies when that invoice is paid
(:func:`apply_paid_upgrades`, the orders area's ``invoice_paid`` reaction in
portal/orders/builtin_hooks.py). When nothing is due it
applies at once; a downgrade's credit (with the tax the client paid on it) goes to the client's
credit balance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from portal import billing
from portal.accounts import audit
from portal.accounts.models import Client
from portal.billing import Cycle
from portal.catalog import catalog
from portal.catalog.models import Addon, Product, Visibility
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.invoicing import credit_terms, invoices, payments
from portal.invoicing.models import CreditReason, Invoice
from portal.orders import provisioning
from portal.orders.models import (
    Order,
    OrderItem,
    OrderKind,
    OrderSource,
    OrderStatus,
    Service,
    ServiceAddon,
    ServiceChange,
    ServiceStatus,
)
from portal.orders.models.order import ChangeStatus
from portal.orders.orders import client_locale
from portal.platform.hooks import events
from portal.web.formatting import money

#: The suspension reason of a service staff suspended by hand ("overdue" is the automation's).
STAFF_SUSPENSION = "staff"


class ChangeError(ValueError):
    """A change that cannot be quoted or made; the message is fit to show."""


@dataclass(frozen=True)
class ChangeRequest:
    """What the service should become. ``None`` keeps the current product/cycle/options.

    ``options`` are final values ({option id: quantity or choice id}); for another product,
    options it shares by name with the current one keep their values unless given.
    """

    product_id: int | None = None
    cycle: str | None = None
    options: Mapping[int, int] | None = None
    #: Staff only: the new price per period instead of the catalogue's.
    price_override: Decimal | None = None


@dataclass(frozen=True)
class ChangePreview:
    """Everything the preview shows and the confirmation records."""

    service: Service
    old_product: Product
    new_product: Product
    old_cycle: Cycle
    new_cycle: Cycle
    old_options: dict[int, int]
    new_options: dict[int, int]
    old_details: tuple[str, ...]
    new_details: tuple[str, ...]
    quote: billing.ChangeQuote
    period: billing.Period | None
    line_tax: billing.LineTax
    #: ``quote.difference`` with tax, split (negative for a downgrade).
    taxed: billing.TaxedAmount
    price_override: Decimal | None

    @property
    def currency(self) -> str:
        return self.service.currency

    @property
    def day_count(self) -> billing.DayCount:
        return self.quote.day_count

    @property
    def amount_due(self) -> Decimal:
        """What the client pays now, tax included."""
        return max(self.taxed.total, Decimal(0))

    @property
    def to_credit(self) -> Decimal:
        """What goes to the credit balance, tax included."""
        return max(-self.taxed.total, Decimal(0))

    @property
    def is_downgrade(self) -> bool:
        return self.quote.difference < 0

    @property
    def changes_nothing(self) -> bool:
        """Same product, cycle and options (and no new price from staff)."""
        return (
            self.old_product.id == self.new_product.id
            and self.old_cycle is self.new_cycle
            and self.old_options == self.new_options
            and (self.price_override is None or self.price_override == self.quote.old.price)
        )


def _current_period(service: Service) -> billing.Period | None:
    cycle = Cycle.parse(service.cycle)
    if not cycle.is_recurring or service.next_due_date is None:
        return None
    start = service.period_start or billing.next_due(
        service.next_due_date, cycle, -1, anchor_day=service.anchor_day
    )
    return billing.Period(start, service.next_due_date)


def _service_order(
    service: Service,
    kind: OrderKind,
    source: OrderSource,
    staff_id: int | None,
    subtotal: Decimal,
    tax: Decimal,
    total: Decimal,
) -> Order:
    """A pending order about an existing service (a change or an add-on)."""
    return Order(
        client_id=service.client_id,
        kind=kind,
        status=OrderStatus.PENDING,
        source=source,
        currency=service.currency,
        staff_id=staff_id,
        created_at=clock().now(),
        subtotal=subtotal,
        tax=tax,
        total=total,
    )


def _lock(service: Service) -> None:
    """One change or add-on order of a service at a time (a row lock on PostgreSQL)."""
    db.session.execute(select(Service.id).where(Service.id == service.id).with_for_update())


def pending_change(service: Service) -> ServiceChange | None:
    return db.session.scalar(
        select(ServiceChange).where(
            ServiceChange.service_id == service.id, ServiceChange.status == ChangeStatus.PENDING
        )
    )


def change_targets(service: Service, *, staff: bool = False) -> list[Product]:
    """The service's own product first, then its upgrade/downgrade paths."""
    targets = [service.product]
    for product in catalog.upgrade_targets(service.product):
        if staff or product.visibility is not Visibility.STAFF_ONLY:
            targets.append(product)
    return targets


def _carry_options(old: Product, new: Product, values: Mapping[int, int]) -> dict[int, int]:
    """Quantities of options the new product shares by name with the old one."""
    by_name = {option.name: values.get(option.id) for option in old.options}
    carried = {}
    for option in new.options:
        value = by_name.get(option.name)
        if value is not None and option.kind.value == "quantity":
            carried[option.id] = value
    return carried


def preview(
    service: Service, request: ChangeRequest, *, today: date, staff: bool = False
) -> ChangePreview:
    """Quote the change on ``today`` (see the module docstring). Raises :class:`ChangeError`."""
    try:
        return _preview(service, request, today=today, staff=staff)
    except billing.BillingError as error:
        raise ChangeError(catalog.billing_message(error)) from None


def _preview(
    service: Service, request: ChangeRequest, *, today: date, staff: bool
) -> ChangePreview:
    if service.status is not ServiceStatus.ACTIVE:
        raise ChangeError(_("Only an active service can be changed."))
    waiting = pending_change(service)
    if waiting is not None:
        raise ChangeError(
            _(
                "A change of this service is waiting for payment of its invoice; pay or cancel it "
                "first."
            )
        )
    if not staff and service.price_override is not None:
        raise ChangeError(
            _("This service has a special price. Please ask us to change it for you.")
        )
    old_product = service.product
    targets = {product.id: product for product in change_targets(service, staff=staff)}
    new_product = targets.get(request.product_id or old_product.id)
    if new_product is None:
        raise ChangeError(_("Choose one of the products offered for this service."))
    if new_product.id != old_product.id:
        other = db.session.scalar(
            select(Service.id).where(
                Service.client_id == service.client_id, Service.product_id == new_product.id
            )
        )
        if other is not None:
            raise ChangeError(_("The client already has %(product)s.", product=new_product.name))
    old_cycle = Cycle.parse(service.cycle)
    new_cycle = Cycle.parse(request.cycle) if request.cycle else old_cycle
    if Cycle.ONE_TIME in (old_cycle, new_cycle):
        raise billing.OneTimeNotChangeable()
    old_options = catalog.service_options(service)
    if new_product.id == old_product.id:
        base = old_options
    else:
        base = {
            **catalog.default_options(new_product),
            **_carry_options(old_product, new_product, old_options),
        }
    wanted = {**base, **(request.options or {})}
    for value in wanted.values():
        if not isinstance(value, int) or isinstance(value, bool):
            raise ChangeError(_("Enter whole numbers for the quantities."))
    new_options = catalog.clean_options(new_product, wanted)
    if set(request.options or {}) - set(new_options):
        raise ChangeError(
            _("An option chosen does not belong to %(product)s.", product=new_product.name)
        )
    currency = service.currency
    configured = catalog.configure(new_product, currency, new_options)
    override = request.price_override if staff else None
    if override is not None:
        new_price = billing.check_price(override, _("Price override"))
    elif new_cycle is Cycle.FREE:
        new_price = catalog.cycle_price(configured, new_cycle).price  # refused if not free
    else:
        new_price = catalog.recurring_amount(
            service, product=new_product, cycle=new_cycle.value, values=new_options
        )
    old_price = Decimal(0) if old_cycle is Cycle.FREE else service.recurring_amount
    old_details = catalog.option_details(old_product, currency, old_options)
    period = _current_period(service)
    # The billing run invoices the next period a few days ahead and moves the service into it;
    # a change in those days counts from the start of that (already invoiced) period.
    change_day = max(today, period.start) if period is not None else today
    quote = billing.quote_change(
        billing.Terms(old_cycle, old_price),
        billing.Terms(new_cycle, new_price),
        change_day,
        period,
        catalog.day_count_of(old_product),
        currency,
    )
    client = db.session.get(Client, service.client_id)
    tax = catalog.line_tax(client, new_product, today)
    difference = quote.difference
    taxed = billing.apply_tax(abs(difference), tax, currency)
    if difference < 0:
        taxed = billing.TaxedAmount(-taxed.net, -taxed.tax, -taxed.total)
    return ChangePreview(
        service=service,
        old_product=old_product,
        new_product=new_product,
        old_cycle=old_cycle,
        new_cycle=new_cycle,
        old_options=old_options,
        new_options=new_options,
        old_details=tuple(old_details),
        new_details=configured.details(),
        quote=quote,
        period=period,
        line_tax=tax,
        taxed=taxed,
        price_override=override,
    )


def _days_text(quote: billing.ChangeQuote) -> str:
    return _(
        "Days to the end of the current cycle: %(remaining)s / %(total)s",
        remaining=quote.days_remaining,
        total=quote.days_total,
    )


def _invoice_line(client: Client, change: ChangePreview) -> billing.InvoiceLine:
    """One line for the difference, co-terminated with the service (the charge period)."""
    quote = change.quote
    with client_locale(client):
        if change.new_product.id != change.old_product.id:
            name = _(
                "Change of package: %(old)s → %(new)s",
                old=change.old_product.name,
                new=change.new_product.name,
            )
        else:
            name = _("Change of package: %(product)s", product=change.new_product.name)
        details = [
            *change.new_details,
            _(
                "Credit for the unused part of the current terms: %(amount)s",
                amount=money(quote.credit, change.currency),
            ),
            _(
                "Charge for the new terms: %(amount)s",
                amount=money(quote.charge, change.currency),
            ),
            _days_text(quote),
        ]
    return billing.charge_line(
        name,
        quote.difference,
        change.currency,
        period=quote.charge_period,
        line_tax=change.line_tax,
        details=details,
    )


def _refuse_when_blocked(service: Service, today: date) -> None:
    """Credit terms: no changes while the client owes too much or pays too late."""
    blocked = credit_terms.order_block_reason(db.session.get(Client, service.client_id), today)
    if blocked:
        raise ChangeError(blocked)


def confirm(
    service: Service,
    request: ChangeRequest,
    *,
    today: date,
    staff_id: int | None = None,
    source: OrderSource = OrderSource.CLIENT_AREA,
) -> ServiceChange:
    """Make the change order and its invoice, or apply the change at once. Commits."""
    staff = source is OrderSource.STAFF
    _refuse_when_blocked(service, today)
    _lock(service)
    change = preview(service, request, today=today, staff=staff)
    if change.changes_nothing:
        raise ChangeError(_("Nothing changes: choose another product, cycle or quantity."))
    quote = change.quote
    client = db.session.get(Client, service.client_id)
    now = clock().now()
    order = _service_order(
        service,
        OrderKind.CHANGE,
        source,
        staff_id,
        change.taxed.net,
        change.taxed.tax,
        change.taxed.total,
    )
    order.items.append(
        OrderItem(
            position=1,
            product_id=change.new_product.id,
            service_id=service.id,
            cycle=change.new_cycle.value,
            options={str(k): v for k, v in change.new_options.items()},
            description=change.new_product.name,
            details=list(change.new_details),
            price=quote.new.price,
            price_override=change.price_override,
        )
    )
    db.session.add(order)
    db.session.flush()
    record = ServiceChange(
        service_id=service.id,
        client_id=client.id,
        order_id=order.id,
        created_at=now,
        status=ChangeStatus.PENDING,
        change_date=today,
        old_product_id=change.old_product.id,
        new_product_id=change.new_product.id,
        old_cycle=change.old_cycle.value,
        new_cycle=change.new_cycle.value,
        old_options={str(k): v for k, v in change.old_options.items()},
        new_options={str(k): v for k, v in change.new_options.items()},
        old_price=quote.old.price,
        new_price=quote.new.price,
        new_price_override=change.price_override,
        day_count=quote.day_count.value,
        days_used=quote.days_used,
        days_remaining=quote.days_remaining,
        days_total=quote.days_total,
        credit=quote.credit,
        charge=quote.charge,
        difference=quote.difference,
        total=change.taxed.total,
        period_start=quote.charge_period.start if quote.charge_period else None,
        period_end=quote.charge_period.end if quote.charge_period else None,
        next_due=quote.next_due,
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        "service.change_ordered",
        "service",
        service.id,
        client_id=client.id,
        before={
            "product": change.old_product.name,
            "cycle": change.old_cycle.value,
            "options": record.old_options,
            "price": quote.old.price,
        },
        after={
            "product": change.new_product.name,
            "cycle": change.new_cycle.value,
            "options": record.new_options,
            "price": quote.new.price,
            "credit": quote.credit,
            "charge": quote.charge,
            "difference": quote.difference,
            "order": order.id,
        },
    )
    if quote.difference > 0:
        draft = invoices.create_draft(
            client, [(_invoice_line(client, change), service.id)], notes=f"#{order.id}"
        )
        order.invoice_id = record.invoice_id = draft.id
        invoices.issue_invoice(draft, today=today)  # commits
        return record
    _apply(record, service)
    order.status = OrderStatus.ACTIVE
    order.accepted_at = now
    if change.to_credit > 0:
        with client_locale(client):
            description = _(
                "Downgrade of %(product)s, order #%(order)s",
                product=change.old_product.name,
                order=order.id,
            )
        payments.add_credit(
            client,
            change.to_credit,
            CreditReason.DOWNGRADE,
            description=description,
            currency=service.currency,
        )
    db.session.commit()
    return record


def _apply(change: ServiceChange, service: Service) -> None:
    """Put the change on the service (joins the caller's transaction)."""
    before = audit.snapshot(service, SERVICE_FIELDS)
    product = db.session.get(Product, change.new_product_id)
    old_cycle, new_cycle = Cycle.parse(change.old_cycle), Cycle.parse(change.new_cycle)
    service.product_id = product.id
    service.product = product
    service.cycle = new_cycle.value
    values = {int(k): int(v) for k, v in (change.new_options or {}).items()}
    catalog.set_service_options(service, product, values)
    service.recurring_amount = change.new_price
    service.price_override = change.new_price_override
    if not new_cycle.is_recurring:
        service.next_due_date = service.period_start = None
    elif old_cycle is Cycle.FREE:
        service.period_start = change.change_date
        service.next_due_date = change.next_due
        service.anchor_day = change.change_date.day
    elif change.next_due is not None and change.next_due != service.next_due_date:
        # a longer cycle: the new period starts where the current one started
        service.next_due_date = change.next_due
    change.status = ChangeStatus.APPLIED
    change.applied_at = clock().now()
    provisioning.queue_change(change, service)
    old, new = audit.diff(before, audit.snapshot(service, SERVICE_FIELDS))
    audit.record(
        "service.change_applied",
        "service",
        service.id,
        client_id=service.client_id,
        before=old,
        after=new,
        note=f"change #{change.id}",
    )


def apply_paid_upgrades(invoice: Invoice) -> list[ServiceChange]:
    """Apply the changes waiting for ``invoice``, which has just become paid.

    Called from the ``invoice_paid`` event inside the payment's transaction (no commit here).
    """
    changes = list(
        db.session.scalars(
            select(ServiceChange).where(
                ServiceChange.invoice_id == invoice.id, ServiceChange.status == ChangeStatus.PENDING
            )
        )
    )
    for change in changes:
        service = db.session.get(Service, change.service_id)
        if service is None:
            continue
        _apply(change, service)
        order = db.session.get(Order, change.order_id)
        if order is not None and order.status is OrderStatus.PENDING:
            order.status = OrderStatus.ACTIVE
            order.accepted_at = clock().now()
    _activate_paid_addons(invoice)
    return changes


# --- add-ons bought for a running service -------------------------------------------------------


@dataclass(frozen=True)
class AddonQuote:
    """An add-on bought today for a service: billed to the end of the service's period."""

    addon: Addon
    lines: tuple[billing.InvoiceLine, ...]
    draft: billing.InvoiceDraft


def addons_available(service: Service) -> list[Addon]:
    """Add-ons sold with the service's product that it does not hold yet."""
    held = set(
        db.session.scalars(
            select(ServiceAddon.addon_id).where(ServiceAddon.service_id == service.id)
        )
    )
    return [addon for addon in catalog.addons_for(service.product) if addon.id not in held]


def quote_addon(service: Service, addon_id: int | None, *, today: date) -> AddonQuote:
    """The co-termed price of an add-on bought today (``billing.co_terminate`` by way of
    ``charge_line``'s full period). Raises :class:`ChangeError`."""
    if service.status is not ServiceStatus.ACTIVE:
        raise ChangeError(_("Only an active service can be changed."))
    addon = next((a for a in addons_available(service) if a.id == addon_id), None)
    if addon is None:
        raise ChangeError(_("Choose one of the add-ons offered for this service."))
    client = db.session.get(Client, service.client_id)
    cycle = Cycle.parse(service.cycle)
    try:
        entry = catalog.addon_price(addon, service.currency, cycle)
        tax = catalog.line_tax(client, service.product, today)
        period = _current_period(service)
        lines = []
        if entry.price > 0 and cycle is not Cycle.FREE:
            lines.append(
                billing.charge_line(
                    addon.name,
                    entry.price,
                    service.currency,
                    period=None if period is None else billing.Period(today, period.end),
                    full_period=period,
                    day_count=catalog.day_count_of(service.product),
                    line_tax=tax,
                )
            )
        if entry.setup_fee > 0:
            with client_locale(client):
                label = f"{addon.name}: {_('Setup fee')}"
            lines.append(
                billing.charge_line(
                    label,
                    entry.setup_fee,
                    service.currency,
                    line_tax=tax,
                    component=billing.Component.SETUP,
                )
            )
        draft = billing.draft_invoice(lines, service.currency)
    except billing.BillingError as error:
        raise ChangeError(catalog.billing_message(error)) from None
    return AddonQuote(addon, tuple(lines), draft)


def addon_offers(service: Service, today: date) -> list[tuple[Addon, AddonQuote]]:
    """(add-on, its co-termed quote today) for each add-on the service can still get (none
    unless it is active)."""
    if service.status is not ServiceStatus.ACTIVE:
        return []
    offers = []
    for addon in addons_available(service):
        try:
            offers.append((addon, quote_addon(service, addon.id, today=today)))
        except ChangeError:
            continue
    return offers


def order_addon(
    service: Service,
    addon_id: int | None,
    *,
    today: date,
    staff_id: int | None = None,
    source: OrderSource = OrderSource.CLIENT_AREA,
) -> ServiceAddon:
    """Buy an add-on for a running service: an order and a co-termed invoice; the add-on is
    active once the invoice is paid (at once if it costs nothing). Commits."""
    _refuse_when_blocked(service, today)
    _lock(service)
    quote = quote_addon(service, addon_id, today=today)
    client = db.session.get(Client, service.client_id)
    now = clock().now()
    order = _service_order(
        service,
        OrderKind.ADDON,
        source,
        staff_id,
        quote.draft.subtotal,
        quote.draft.tax,
        quote.draft.total,
    )
    order.items.append(
        OrderItem(
            position=1,
            product_id=service.product_id,
            service_id=service.id,
            cycle=service.cycle,
            addon_ids=[quote.addon.id],
            description=quote.addon.name,
            price=catalog.addon_price(
                quote.addon, service.currency, Cycle.parse(service.cycle)
            ).price,
        )
    )
    db.session.add(order)
    db.session.flush()
    held = ServiceAddon(
        service_id=service.id,
        addon_id=quote.addon.id,
        status=ServiceStatus.PENDING,
        recurring_amount=order.items[0].price,
        registration_date=today,
        order_id=order.id,
        created_at=now,
    )
    db.session.add(held)
    audit.record(
        "service.addon_ordered",
        "service",
        service.id,
        client_id=client.id,
        after={"addon": quote.addon.name, "order": order.id, "total": quote.draft.total},
    )
    if quote.draft.total > 0:
        draft = invoices.create_draft(
            client, [(line, service.id) for line in quote.lines], notes=f"#{order.id}"
        )
        order.invoice_id = draft.id
        invoices.issue_invoice(draft, today=today)  # commits
        return held
    held.status = ServiceStatus.ACTIVE
    order.status, order.accepted_at = OrderStatus.ACTIVE, now
    provisioning.queue_addon(service, held)
    db.session.commit()
    return held


def _activate_paid_addons(invoice: Invoice) -> None:
    rows = db.session.execute(
        select(ServiceAddon, Order)
        .join(Order, Order.id == ServiceAddon.order_id)
        .where(
            Order.invoice_id == invoice.id,
            Order.kind == OrderKind.ADDON,
            ServiceAddon.status == ServiceStatus.PENDING,
        )
    ).all()
    for held, order in rows:
        held.status = ServiceStatus.ACTIVE
        if order.status is OrderStatus.PENDING:
            order.status, order.accepted_at = OrderStatus.ACTIVE, clock().now()
        audit.record(
            "service.addon_activated",
            "service",
            held.service_id,
            client_id=order.client_id,
            after={"addon_id": held.addon_id},
        )


# --- staff edits of a service -------------------------------------------------------------------

SERVICE_FIELDS = (
    "status",
    "product_id",
    "cycle",
    "next_due_date",
    "period_start",
    "recurring_amount",
    "price_override",
    "username",
    "admin_notes",
    "no_suspend_until",
    "terminate_at_period_end",
    "termination_reason",
)


def _staff_status(service: Service, status: ServiceStatus, reason: str) -> None:
    """Staff (or a plugin, through the plugin API) set the status by hand: record a suspension
    with its ``reason`` (payment lifts only "overdue" ones) and tell plugins."""
    old, service.status = service.status, status
    if status is old:
        return
    if status is ServiceStatus.SUSPENDED:
        service.suspended_at, service.suspension_reason = clock().now(), reason
        events.fire("service_suspended", service=service, reason=reason)
    elif old is ServiceStatus.SUSPENDED and status is ServiceStatus.ACTIVE:
        service.suspended_at, service.suspension_reason = None, ""
        events.fire("service_unsuspended", service=service)
    if status is ServiceStatus.TERMINATED:
        events.fire("service_terminated", service=service)


def update_service(service: Service, values: Mapping[str, Any]) -> dict[str, Any]:
    """Staff's edit of the service page; returns what changed. Audited, committed.

    Setting a price override (or clearing it) recomputes the recurring amount. A suspension is
    recorded with ``values["suspension_reason"]`` (also passed to the module's command), or as
    staff's when there is none.
    """
    before = audit.snapshot(service, SERVICE_FIELDS)
    if "status" in values:
        status = ServiceStatus(values["status"])
        reason = (values.get("suspension_reason") or "").strip()
        provisioning.queue_status_change(service, service.status, status, reason=reason)
        if status is ServiceStatus.TERMINATED and service.status is not ServiceStatus.TERMINATED:
            service.terminated_at = clock().now()
        _staff_status(service, status, reason or STAFF_SUSPENSION)
    for name in ("username", "admin_notes"):
        if name in values:
            setattr(service, name, (values[name] or "").strip())
    if "no_suspend_until" in values:
        service.no_suspend_until = values["no_suspend_until"]
    if "next_due_date" in values and Cycle.parse(service.cycle).is_recurring:
        due = values["next_due_date"]
        if due is None:
            raise ChangeError(_("A recurring service needs its next due date."))
        if service.period_start is not None and due <= service.period_start:
            raise ChangeError(_("The next due date must be after the start of the current period."))
        service.next_due_date = due
    if "terminate_at_period_end" in values:
        terminate = bool(values["terminate_at_period_end"])
        reason = (values.get("termination_reason") or "").strip()
        if terminate and not reason:
            raise ChangeError(_("Give the reason for terminating the service."))
        service.terminate_at_period_end = terminate
        service.termination_reason = reason if terminate else ""
    if "price_override" in values:
        override = values["price_override"]
        if override is not None:
            try:
                override = billing.check_price(override, _("Price override"))
            except billing.BillingError as error:
                raise ChangeError(catalog.billing_message(error)) from None
        service.price_override = override
        try:
            service.recurring_amount = (
                override if override is not None else (catalog.recurring_amount(service))
            )
        except billing.BillingError as error:
            db.session.rollback()
            raise ChangeError(catalog.billing_message(error)) from None
    old, new = audit.diff(before, audit.snapshot(service, SERVICE_FIELDS))
    if new:
        audit.record(
            "service.update",
            "service",
            service.id,
            client_id=service.client_id,
            before=old,
            after=new,
        )
    db.session.commit()
    return new


def move_service(service: Service, target: Client) -> None:
    """Move a service to another client (its invoices stay). Refused if the other client has
    the product: a client never holds a product twice. Audited on both clients; committed."""
    if target.id == service.client_id:
        raise ChangeError(_("The service already belongs to this client."))
    if not target.is_active:
        raise ChangeError(_("A closed client cannot receive a service."))
    clash = db.session.scalar(
        select(Service.id).where(
            Service.client_id == target.id, Service.product_id == service.product_id
        )
    )
    if clash is not None:
        raise ChangeError(
            _(
                "%(client)s already has %(product)s.",
                client=target.display_name,
                product=service.product.name,
            )
        )
    if pending_change(service) is not None:
        raise ChangeError(_("A change of this service is waiting for payment; finish it first."))
    source_id = service.client_id
    service.client_id = target.id
    db.session.execute(
        update(ServiceChange)
        .where(ServiceChange.service_id == service.id)
        .values(client_id=target.id)
    )
    for client_id in (source_id, target.id):
        audit.record(
            "service.move",
            "service",
            service.id,
            client_id=client_id,
            before={"client_id": source_id},
            after={"client_id": target.id},
        )
    db.session.commit()


def services_due_count(today: date, days: int = 7) -> int:
    """Active services whose next due date is within ``days`` days from ``today``."""
    from datetime import timedelta

    return (
        db.session.scalar(
            select(func.count(Service.id)).where(
                Service.status == ServiceStatus.ACTIVE,
                Service.next_due_date >= today,
                Service.next_due_date <= today + timedelta(days=days),
            )
        )
        or 0
    )
