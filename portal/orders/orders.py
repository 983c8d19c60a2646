"""Orders: the cart's quote, placing an order, accepting it (services + first invoice),
cancelling it, and promo codes.

A cart is a list of :class:`CartItem`; :func:`quote_cart` prices it with the billing engine as
the first invoice would be (period, proration, setup fees, promo code, tax), so the checkout shows
the total with tax before the client confirms. Placing an order copies the prices into it;
accepting it creates one service per item and issues the first invoice.

Rules (DOMAIN.md): a client never has the same product twice, so ordering a product the client
holds is refused with a pointer to the upgrade of that service. A new service co-terms with the
client's running service of the same cycle (its first period ends on that service's next due
date, prorated) — the one a plugin names through the ``co_term_with`` decision hook, else the
oldest; otherwise, with a billing day set (setting ``billing_day``), the first period
runs to the next billing day; otherwise it is one full period from the acceptance date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload

from portal import billing
from portal.accounts import audit
from portal.accounts.models import Client
from portal.billing import Cycle
from portal.catalog import catalog, client_rules
from portal.catalog.models import Addon, Product, Visibility
from portal.core.app_state import clock, plugins
from portal.core.extensions import db
from portal.invoicing import credit_terms, invoices
from portal.invoicing.models import Invoice, InvoiceStatus
from portal.orders import provisioning
from portal.orders.models import (
    Order,
    OrderItem,
    OrderKind,
    OrderSource,
    OrderStatus,
    PromoCode,
    PromoUse,
    Service,
    ServiceAddon,
    ServiceChange,
    ServiceStatus,
)
from portal.orders.models.order import ChangeStatus
from portal.platform import runtime_settings
from portal.platform.hooks import events
from portal.web.paging import Page, keyset_page

#: Services in these states hold their product: ordering it again is an upgrade.
HOLDING = (ServiceStatus.PENDING, ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)


def _take_one_from_stock(product: Product) -> bool:
    """Decrement stock atomically: two acceptances at once cannot both take the last unit."""
    taken = db.session.execute(
        update(Product)
        .where(Product.id == product.id, Product.stock > 0)
        .values(stock=Product.stock - 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(product, ["stock"])
    return taken == 1


class OrderError(ValueError):
    """An order that cannot be placed or changed as asked; the message says why."""

    def __init__(self, message: str, *, service_id: int | None = None) -> None:
        super().__init__(message)
        #: The client's service of the product, when the answer is "upgrade it instead".
        self.service_id = service_id


@dataclass(frozen=True)
class CartItem:
    """One product in a cart: cycle, option values ({option id: quantity or choice id})."""

    product_id: int
    cycle: str
    options: Mapping[int, int] = field(default_factory=dict)
    addon_ids: tuple[int, ...] = ()
    #: Staff only: the price per period instead of the catalogue's.
    price_override: Decimal | None = None

    def to_session(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "cycle": self.cycle,
            "options": {str(k): v for k, v in self.options.items()},
            "addon_ids": list(self.addon_ids),
        }

    @classmethod
    def from_session(cls, data: Any) -> CartItem | None:
        """Rebuild an item from the session; junk gives None rather than an error."""
        try:
            return cls(
                product_id=int(data["product_id"]),
                cycle=str(data["cycle"]),
                options={int(k): int(v) for k, v in dict(data.get("options") or {}).items()},
                addon_ids=tuple(int(a) for a in data.get("addon_ids") or ()),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


@dataclass(frozen=True)
class Schedule:
    """When a new service's first period runs and what part of a full period it is."""

    start: date
    period: billing.Period | None
    full_period: billing.Period | None
    next_due: date | None
    anchor_day: int | None
    co_termed_with: Service | None = None


@dataclass(frozen=True)
class QuotedItem:
    item: CartItem
    product: Product | None
    cycle: Cycle | None
    options: dict[int, int]
    price: Decimal
    setup_fee: Decimal
    lines: tuple[billing.InvoiceLine, ...] = ()
    details: tuple[str, ...] = ()
    schedule: Schedule | None = None
    addons: tuple[Addon, ...] = ()
    error: str | None = None
    #: The client's service of this product, when the item has to be an upgrade instead.
    existing_service_id: int | None = None
    promo_applied: bool = False


@dataclass(frozen=True)
class CartQuote:
    currency: str
    items: tuple[QuotedItem, ...]
    draft: billing.InvoiceDraft
    promo: PromoCode | None = None
    promo_error: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.items) and all(item.error is None for item in self.items)

    @property
    def personal_discount(self) -> Decimal:
        """What the client's personal discounts take off the cart (before tax)."""
        return sum(
            (line.discount for line in self.draft.lines if line.kind is billing.LineKind.CHARGE),
            Decimal(0),
        )

    @property
    def promo_shut_out(self) -> bool:
        """A valid promo code that applied nowhere because personal discounts win."""
        return (
            self.promo is not None
            and self.personal_discount > 0
            and not any(item.promo_applied for item in self.items)
        )


# --- pricing ------------------------------------------------------------------------------------


def _billing_day() -> int | None:
    value = runtime_settings.get("billing_day")
    try:
        day = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return day if day is not None and 1 <= day <= 31 else None


def _main_service(client: Client, cycle: Cycle, start: date, exclude: int | None) -> Service | None:
    """The client's running service of the same cycle whose current period contains ``start``."""
    return db.session.scalar(
        select(Service)
        .where(
            Service.client_id == client.id,
            Service.cycle == cycle.value,
            Service.status == ServiceStatus.ACTIVE,
            Service.period_start <= start,
            Service.next_due_date > start,
            Service.product_id != (exclude or 0),
        )
        .order_by(Service.registration_date, Service.id)
        .limit(1)
    )


def _co_term_target(client: Client, product: Product, cycle: Cycle, start: date) -> Service | None:
    """The service a new one co-terms with: a plugin's answer (``co_term_with``) when it is one
    of the client's running services of the cycle, else the core's (:func:`_main_service`)."""
    chosen = plugins().hook.co_term_with(client=client, product=product, cycle=cycle, start=start)
    if (
        isinstance(chosen, Service)
        and chosen.client_id == client.id
        and chosen.product_id != product.id
        and chosen.cycle == cycle.value
        and chosen.status is ServiceStatus.ACTIVE
        and chosen.period_start is not None
        and chosen.next_due_date is not None
        and chosen.period_start <= start < chosen.next_due_date
    ):
        return chosen
    return _main_service(client, cycle, start, product.id)


def schedule_for(client: Client, product: Product, cycle: Cycle, start: date) -> Schedule:
    """The first period of a new service of ``product`` started on ``start`` (module docstring)."""
    if not cycle.is_recurring:
        return Schedule(start, None, None, None, None)
    main = _co_term_target(client, product, cycle, start)
    if main is not None and main.period_start is not None and main.next_due_date is not None:
        full = billing.Period(main.period_start, main.next_due_date)
        return Schedule(
            start,
            billing.Period(start, full.end),
            full,
            full.end,
            main.anchor_day or full.anchor_day,
            co_termed_with=main,
        )
    day = _billing_day()
    if day is not None:
        first = billing.first_period_with_billing_day(
            start, cycle, day, Decimal(0), catalog.day_count_of(product), "RUB"
        )
        end = first.period.end
        full = billing.Period(billing.next_due(end, cycle, -1, anchor_day=day), end)
        if full.start == start:
            full = first.period
        return Schedule(start, first.period, full, end, day)
    period = billing.Period(start, billing.next_due(start, cycle))
    return Schedule(start, period, period, period.end, start.day)


def client_locale(client: Client) -> Any:
    """Texts that go on a client's invoice or e-mail are in the client's language."""
    return force_locale(client.language or current_app.config["BABEL_DEFAULT_LOCALE"])


def _setup_fee_label(client: Client) -> str:
    with client_locale(client):
        return _("Setup fee")


def _setup_coefficient(client: Client, product: Product) -> Decimal:
    """A plugin's coefficient on the product's setup fee (``setup_coefficient``), else 1."""
    found = plugins().hook.setup_coefficient(client=client, product=product)
    return billing.ONE if found is None else billing.check_coefficient(found)


def item_lines(
    client: Client,
    product: Product,
    cycle: Cycle,
    price: Decimal,
    setup_fee: Decimal,
    details: Sequence[str],
    schedule: Schedule,
    *,
    tax_date: date,
    promo: billing.PromoCode | None = None,
    addons: Sequence[Addon] = (),
    personal: Sequence[billing.Discount] = (),
) -> tuple[list[billing.InvoiceLine], bool]:
    """The first invoice's lines for one product; also whether the promo code applied.

    ``personal`` are the client's personal discounts valid for the line's period: one that
    covers the product takes its price down by its coefficient and shuts out the promo code
    (``billing.resolve_discount``); setup fees and add-ons keep their list prices, unless a
    plugin gives the product's setup fee a coefficient (the ``setup_coefficient`` hook).
    """
    currency = client.currency
    tax = catalog.line_tax(client, product, tax_date)
    day_count = catalog.day_count_of(product)
    component = (
        billing.Component.ONE_TIME if cycle is Cycle.ONE_TIME else billing.Component.RECURRING
    )
    lines: list[billing.InvoiceLine] = []
    applied = False

    def charge(
        name: str, amount: Decimal, sub: Sequence[str] = (), coefficient: Decimal = billing.ONE
    ) -> billing.InvoiceLine:
        full = schedule.full_period if schedule.full_period != schedule.period else None
        return billing.charge_line(
            name,
            amount,
            currency,
            period=schedule.period,
            full_period=full,
            day_count=day_count,
            coefficient=coefficient,
            line_tax=tax,
            component=component,
            details=sub,
        )

    if cycle is not Cycle.FREE:
        discount = billing.resolve_discount(
            product.id, cycle, component, personal=personal, promo=promo
        )
        sub = tuple(details)
        if discount.coefficient != billing.ONE:
            with client_locale(client):
                sub += (client_rules.discount_detail(discount.coefficient),)
        main = charge(product.name, price, sub, discount.coefficient)
        lines.append(main)
        if discount.promo is not None and main.amount > 0:
            lines.append(billing.promo_line(discount.promo, main))
            applied = True
    if setup_fee > 0:
        factor = _setup_coefficient(client, product)
        shown: tuple[str, ...] = ()
        if factor < billing.ONE:
            with client_locale(client):
                shown = (client_rules.discount_detail(factor),)
        lines.append(
            billing.charge_line(
                f"{product.name}: {_setup_fee_label(client)}",
                setup_fee,
                currency,
                coefficient=factor,
                line_tax=tax,
                component=billing.Component.SETUP,
                details=shown,
            )
        )
    for addon in addons:
        entry = catalog.addon_price(addon, currency, cycle)
        if cycle is not Cycle.FREE and entry.price > 0:
            lines.append(charge(addon.name, entry.price))
        if entry.setup_fee > 0:
            lines.append(
                billing.charge_line(
                    f"{addon.name}: {_setup_fee_label(client)}",
                    entry.setup_fee,
                    currency,
                    line_tax=tax,
                    component=billing.Component.SETUP,
                )
            )
    return lines, applied


def holding_service(client_id: int, product_id: int) -> Service | None:
    """The client's live service of the product, if any (then buying more is an upgrade)."""
    return db.session.scalar(
        select(Service).where(
            Service.client_id == client_id,
            Service.product_id == product_id,
            Service.status.in_(HOLDING),
        )
    )


def _pending_order_for(client_id: int, product_id: int) -> int | None:
    return db.session.scalar(
        select(Order.id)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(
            Order.client_id == client_id,
            Order.status == OrderStatus.PENDING,
            Order.kind == OrderKind.NEW,
            OrderItem.product_id == product_id,
        )
        .limit(1)
    )


def find_promo(code: str) -> PromoCode | None:
    code = "".join((code or "").split()).upper()
    if not code:
        return None
    return db.session.scalar(
        select(PromoCode).where(func.upper(PromoCode.code) == code, PromoCode.active.is_(True))
    )


def promo_uses(promo_id: int, client_id: int | None = None) -> int:
    """Orders that redeemed the code (by anyone, or by one client)."""
    stmt = select(func.count(func.distinct(PromoUse.order_id))).where(
        PromoUse.promo_code_id == promo_id
    )
    if client_id is not None:
        stmt = stmt.where(PromoUse.client_id == client_id)
    return db.session.scalar(stmt) or 0


def _check_promo(
    promo: PromoCode, client: Client, items: Sequence[tuple[Product, Cycle]], today: date
) -> tuple[billing.PromoCode, set[int]]:
    """The engine's code and the products it may discount; raises the engine's error if none."""
    model = catalog.promo_model(promo)
    uses, mine = promo_uses(promo.id), promo_uses(promo.id, client.id)
    if model.currency and model.currency != client.currency:
        raise billing.PromoNotApplicable(code=promo.code)
    covered: set[int] = set()
    first_error: billing.BillingError | None = None
    for product, cycle in items:
        try:
            model.check(product=product.id, cycle=cycle, on=today, uses=uses, client_uses=mine)
        except billing.PromoNotApplicable as error:
            first_error = first_error or error
            continue
        covered.add(product.id)
    if not covered:
        raise first_error or billing.PromoNotApplicable(code=promo.code)
    return model, covered


def quote_cart(
    client: Client,
    items: Sequence[CartItem],
    *,
    today: date,
    promo_code: str = "",
    staff: bool = False,
) -> CartQuote:
    """Price the cart as its first invoice on ``today``; problems are reported per item."""
    currency = client.currency
    products = {
        p.id: p
        for p in db.session.scalars(
            select(Product).where(Product.id.in_({item.product_id for item in items}))
        )
    }
    promo = find_promo(promo_code)
    promo_error = None
    if promo_code.strip() and promo is None:
        promo_error = _("There is no promo code %(code)s.", code=promo_code.strip())
    prepared: list[tuple[CartItem, Product | None, Cycle | None, str | None]] = []
    seen: set[int] = set()
    for item in items:
        product = products.get(item.product_id)
        error = None
        cycle = None
        if product is None or (not staff and product.visibility is Visibility.STAFF_ONLY):
            error = _("This product is not available.")
        elif missing := catalog.missing_prices(product, currency):
            error = missing
        else:
            try:
                if not (item.cycle or "").strip():
                    error = _("Choose a billing cycle.")
                else:
                    cycle = Cycle.parse(item.cycle)
            except billing.BillingError as exc:
                error = catalog.billing_message(exc)
            if product.id in seen:
                error = _("%(product)s is in the cart twice.", product=product.name)
            seen.add(product.id)
        prepared.append((item, product, cycle, error))
    model: billing.PromoCode | None = None
    covered: set[int] = set()
    if promo is not None:
        try:
            valid = [(p, c) for _i, p, c, e in prepared if p and c and e is None]
            model, covered = _check_promo(promo, client, valid, today)
        except billing.BillingError as exc:
            promo_error = catalog.billing_message(exc)
    personal = client_rules.personal_discounts(client.id, today)
    quoted = [
        _quote_item(
            client,
            item,
            product,
            cycle,
            error,
            today,
            staff=staff,
            promo=model if product is not None and product.id in covered else None,
            personal=personal,
        )
        for item, product, cycle, error in prepared
    ]
    lines = [line for q in quoted if q.error is None for line in q.lines]
    draft = billing.draft_invoice(lines, currency)
    return CartQuote(
        currency, tuple(quoted), draft, promo if promo_error is None else None, promo_error
    )


def _quote_item(
    client: Client,
    item: CartItem,
    product: Product | None,
    cycle: Cycle | None,
    error: str | None,
    today: date,
    *,
    staff: bool,
    promo: billing.PromoCode | None,
    personal: Sequence[billing.Discount] = (),
) -> QuotedItem:
    zero = Decimal(0)
    if error is not None or product is None or cycle is None:
        return QuotedItem(item, product, cycle, dict(item.options), zero, zero, error=error)
    options = catalog.clean_options(product, item.options)

    def refused(message: str, existing_service_id: int | None = None) -> QuotedItem:
        return QuotedItem(item, product, cycle, options, zero, zero,
                          existing_service_id=existing_service_id, error=message)  # fmt: skip

    existing = holding_service(client.id, product.id)
    if existing is not None:
        return refused(
            _(
                "You already have %(product)s. Change its options or package instead of "
                "ordering it again.",
                product=product.name,
            ),
            existing.id,
        )
    if _pending_order_for(client.id, product.id) is not None:
        return refused(
            _("%(product)s is already ordered and waiting for confirmation.", product=product.name)
        )
    if product.stock is not None and product.stock < 1:
        return refused(_("%(product)s is out of stock.", product=product.name))
    addon_ids = set(item.addon_ids)
    addons = tuple(a for a in catalog.addons_for(product) if a.id in addon_ids)
    try:
        configured = catalog.configure(product, client.currency, options)
        entry = catalog.cycle_price(configured, cycle)
        price, setup_fee = entry.price, entry.setup_fee
        if item.price_override is not None and staff:
            price = billing.check_price(item.price_override, _("Price override"))
            promo, personal = None, ()
        if cycle is Cycle.FREE:
            price = zero
        schedule = schedule_for(client, product, cycle, today)
        lines, applied = item_lines(
            client,
            product,
            cycle,
            price,
            setup_fee,
            configured.details(),
            schedule,
            tax_date=today,
            promo=promo,
            addons=addons,
            personal=personal,
        )
    except billing.BillingError as exc:
        return refused(catalog.billing_message(exc))
    if len(addons) != len(addon_ids):
        return refused(_("An add-on chosen is not sold with %(product)s.", product=product.name))
    return QuotedItem(
        item,
        product,
        cycle,
        options,
        price,
        setup_fee,
        tuple(lines),
        configured.details(),
        schedule,
        addons,
        promo_applied=applied,
    )


# --- placing an order ---------------------------------------------------------------------------


def place_order(
    client: Client,
    items: Sequence[CartItem],
    *,
    today: date,
    promo_code: str = "",
    source: OrderSource = OrderSource.CLIENT_AREA,
    staff_id: int | None = None,
    skip_email: bool = False,
    generate_invoice: bool = True,
    notes: str = "",
    ip: str = "",
) -> Order:
    """Place a pending order for ``items`` at the prices quoted today. Commits.

    The promo code is counted now (a use per order); cancelling the order gives the use back.
    """
    if not client.is_active:
        raise OrderError(_("A closed client cannot order."))
    if not items:
        raise OrderError(_("The cart is empty."))
    blocked = credit_terms.order_block_reason(client, today)
    if blocked:
        raise OrderError(blocked)
    staff = source is OrderSource.STAFF
    promo = find_promo(promo_code)
    if promo is not None:  # serialise redemptions of one code (max uses) on PostgreSQL
        db.session.execute(select(PromoCode.id).where(PromoCode.id == promo.id).with_for_update())
    quote = quote_cart(client, items, today=today, promo_code=promo_code, staff=staff)
    for quoted in quote.items:
        if quoted.error:
            raise OrderError(quoted.error, service_id=quoted.existing_service_id)
    if quote.promo_error:
        raise OrderError(quote.promo_error)
    refusal = plugins().hook.validate_order(client=client, items=quote.items)
    if refusal:  # a plugin's decision hook (e.g. a licence limit) refuses with its own message
        raise OrderError(str(refusal))
    order = Order(
        client_id=client.id,
        kind=OrderKind.NEW,
        status=OrderStatus.PENDING,
        source=source,
        currency=client.currency,
        promo_code_id=quote.promo.id if quote.promo else None,
        staff_id=staff_id,
        skip_email=skip_email,
        generate_invoice=generate_invoice,
        subtotal=quote.draft.subtotal,
        tax=quote.draft.tax,
        total=quote.draft.total,
        notes=notes,
        ip=ip[:45],
        created_at=clock().now(),
    )
    for position, quoted in enumerate(quote.items, start=1):
        assert quoted.product is not None and quoted.cycle is not None
        order.items.append(
            OrderItem(
                position=position,
                product_id=quoted.product.id,
                cycle=quoted.cycle.value,
                options={str(k): v for k, v in quoted.options.items()},
                addon_ids=[a.id for a in quoted.addons],
                description=quoted.product.name,
                details=list(quoted.details),
                price=quoted.price,
                setup_fee=quoted.setup_fee,
                price_override=quoted.item.price_override if staff else None,
            )
        )
    db.session.add(order)
    db.session.flush()
    if quote.promo is not None and any(q.promo_applied for q in quote.items):
        db.session.add(
            PromoUse(
                promo_code_id=quote.promo.id,
                client_id=client.id,
                order_id=order.id,
                created_at=clock().now(),
            )
        )
    audit.record(
        "order.create",
        "order",
        order.id,
        client_id=client.id,
        after={
            "items": [i.description for i in order.items],
            "total": str(order.total),
            "promo": quote.promo.code if quote.promo else None,
            "source": source.value,
        },
    )
    events.fire("order_placed", order=order)
    db.session.commit()
    return order


# --- accepting, cancelling ----------------------------------------------------------------------


def _service_for(client: Client, product: Product, cycle: Cycle, today: date) -> Service:
    """A new service row, or the client's terminated/cancelled one of the product, reopened
    (a client has one service per product, ever: the unique key (client, product))."""
    existing = db.session.scalar(
        select(Service).where(Service.client_id == client.id, Service.product_id == product.id)
    )
    if existing is not None:
        if existing.status in HOLDING:
            raise OrderError(
                _(
                    "%(client)s already has %(product)s.",
                    client=client.display_name,
                    product=product.name,
                ),
                service_id=existing.id,
            )
        existing.options.clear()
        existing.terminated_at = None
        existing.terminate_at_period_end = False
        existing.termination_reason = ""
        existing.price_override = None
        return existing
    service = Service(
        client_id=client.id,
        product_id=product.id,
        cycle=cycle.value,
        currency=client.currency,
        registration_date=today,
        status=ServiceStatus.PENDING,
        created_at=clock().now(),
    )
    db.session.add(service)
    return service


def accept_order(
    order: Order,
    *,
    today: date,
    send_email: bool | None = None,
    generate_invoice: bool | None = None,
) -> Order:
    """Accept a pending order: create its services (active) and issue the first invoice.

    ``send_email``/``generate_invoice`` default to what the order was placed with. Commits.
    """
    if order.kind is not OrderKind.NEW:
        raise OrderError(_("A change order is completed by paying its invoice."))
    if order.status is not OrderStatus.PENDING:
        raise OrderError(_("Only a pending order can be accepted."))
    client = order.client
    promo = order.promo_code
    promo_model = catalog.promo_model(promo) if promo is not None else None
    invoice_lines: list[tuple[billing.InvoiceLine, int | None]] = []
    discounted: list[int] = []
    personal = client_rules.personal_discounts(client.id, today)
    try:
        for item in order.items:
            product = item.product
            cycle = Cycle.parse(item.cycle)
            options = item.option_values()
            price = item.price_override if item.price_override is not None else item.price
            schedule = schedule_for(client, product, cycle, today)
            service = _service_for(client, product, cycle, today)
            addons = [a for a in catalog.addons_for(product) if a.id in set(item.addon_ids)]
            by_hand = item.price_override is not None  # a price set by hand is final
            lines, applied = item_lines(
                client,
                product,
                cycle,
                price,
                item.setup_fee,
                item.details,
                schedule,
                tax_date=today,
                promo=None if by_hand else promo_model,
                addons=addons,
                personal=() if by_hand else personal,
            )
            service.status = ServiceStatus.ACTIVE
            service.cycle, service.currency = cycle.value, client.currency
            service.registration_date = today
            service.period_start = schedule.period.start if schedule.period else None
            service.next_due_date = schedule.next_due
            service.anchor_day = schedule.anchor_day
            service.price_override = item.price_override
            db.session.flush()
            catalog.set_service_options(service, product, options)
            recurring = price if cycle is not Cycle.FREE else Decimal(0)
            if item.price_override is None and promo is not None and promo.recurring and applied:
                recurring = catalog.discounted(price, promo, product, cycle, client.currency)
            service.recurring_amount = recurring
            for addon in addons:
                entry = catalog.addon_price(addon, client.currency, cycle)
                db.session.add(
                    ServiceAddon(
                        service_id=service.id,
                        addon_id=addon.id,
                        status=ServiceStatus.ACTIVE,
                        recurring_amount=entry.price if cycle is not Cycle.FREE else Decimal(0),
                        registration_date=today,
                        order_id=order.id,
                        created_at=clock().now(),
                    )
                )
            if product.stock is not None and not _take_one_from_stock(product):
                raise OrderError(_("%(product)s is out of stock.", product=product.name))
            item.service_id = service.id
            if applied:
                discounted.append(service.id)
            invoice_lines.extend((line, service.id) for line in lines)
    except billing.BillingError as exc:
        db.session.rollback()
        raise OrderError(catalog.billing_message(exc)) from None
    except OrderError:
        db.session.rollback()
        raise
    _link_promo_uses(order, discounted)
    order.status = OrderStatus.ACTIVE
    order.accepted_at = clock().now()
    if send_email is not None:
        order.skip_email = not send_email
    if generate_invoice is not None:
        order.generate_invoice = generate_invoice
    audit.record(
        "order.accept",
        "order",
        order.id,
        client_id=client.id,
        after={
            "services": [i.service_id for i in order.items],
            "generate_invoice": order.generate_invoice,
        },
    )
    if not order.skip_email:
        _queue_accepted_email(order)
    if order.generate_invoice and invoice_lines:
        draft = invoices.create_draft(client, invoice_lines, notes=_order_note(order))
        order.invoice_id = draft.id
        if draft.total <= 0:  # nothing to pay: provisioned now, not when paid
            provisioning.queue_order(order)
        events.fire("order_accepted", order=order)
        invoices.issue_invoice(draft, today=today)  # commits the whole acceptance
    else:
        provisioning.queue_order(order)
        events.fire("order_accepted", order=order)
        db.session.commit()
    return order


def _order_note(order: Order) -> str:
    return f"#{order.id}"


def _link_promo_uses(order: Order, service_ids: Sequence[int]) -> None:
    if order.promo_code_id is None:
        return
    rows = list(db.session.scalars(select(PromoUse).where(PromoUse.order_id == order.id)))
    if not rows:
        return
    first = rows[0]
    for n, service_id in enumerate(service_ids):
        if n == 0 and first.service_id is None:
            first.service_id = service_id
        else:
            db.session.add(
                PromoUse(
                    promo_code_id=order.promo_code_id,
                    client_id=order.client_id,
                    order_id=order.id,
                    service_id=service_id,
                    created_at=clock().now(),
                )
            )


def _queue_accepted_email(order: Order) -> None:
    from portal.messaging import templates

    templates.send(
        "order_accepted", order.client, dedupe_key=f"order-accepted-{order.id}", order=order
    )


def cancel_order(order: Order, *, reason: str = "", fraud: bool = False) -> Order:
    """Cancel a pending order (or mark it fraud); its promo code use is given back.

    A change order's invoice is cancelled with it and the change never applies. Commits.
    """
    if order.status is not OrderStatus.PENDING:
        raise OrderError(_("Only a pending order can be cancelled."))
    before = {"status": order.status.value}
    order.status = OrderStatus.FRAUD if fraud else OrderStatus.CANCELLED
    order.status_reason = reason.strip()
    order.closed_at = clock().now()
    for use in db.session.scalars(select(PromoUse).where(PromoUse.order_id == order.id)):
        db.session.delete(use)
    invoice = db.session.get(Invoice, order.invoice_id) if order.invoice_id else None
    if order.kind is OrderKind.CHANGE:
        for change in db.session.scalars(
            select(ServiceChange).where(ServiceChange.order_id == order.id)
        ):
            if change.status is ChangeStatus.PENDING:
                change.status = ChangeStatus.CANCELLED
    if order.kind is OrderKind.ADDON:  # the add-on was never paid: the service does not hold it
        for held in db.session.scalars(
            select(ServiceAddon).where(
                ServiceAddon.order_id == order.id, ServiceAddon.status == ServiceStatus.PENDING
            )
        ):
            db.session.delete(held)
    audit.record(
        "order.fraud" if fraud else "order.cancel",
        "order",
        order.id,
        client_id=order.client_id,
        before=before,
        after={"status": order.status.value, "reason": order.status_reason},
    )
    if invoice is not None and invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.UNPAID):
        invoices.cancel_invoice(invoice)  # commits
    else:
        db.session.commit()
    return order


# --- lists and counters -------------------------------------------------------------------------


def pending_count() -> int:
    """The dashboard counter: the ``orders_pending`` row of ``dashboard_count``, kept by a
    trigger on ``sales_order`` (migration 0036; docs/development.md, "Dashboard figures")."""
    from portal.platform.models import DashboardCount

    return (
        db.session.scalar(
            select(func.sum(DashboardCount.value)).where(DashboardCount.counter == "orders_pending")
        )
        or 0
    )


def client_orders(client_id: int) -> list[Order]:
    return list(
        db.session.scalars(
            select(Order).where(Order.client_id == client_id).order_by(Order.id.desc())
        )
    )


def products_for_sale(*, staff: bool = False) -> list[Product]:
    """Products a client can order (staff also see staff-only ones), by group and order."""
    from portal.catalog.models import ProductGroup

    visible = [Visibility.CLIENT_AREA, Visibility.STAFF_ONLY] if staff else [Visibility.CLIENT_AREA]
    return list(
        db.session.scalars(
            select(Product)
            .join(ProductGroup)
            .options(selectinload(Product.group))
            .where(Product.visibility.in_(visible))
            .order_by(ProductGroup.sort_order, ProductGroup.name, Product.sort_order, Product.name)
        )
    )


def order_items_for(orders: Iterable[Order]) -> dict[int, list[OrderItem]]:
    ids = [order.id for order in orders]
    rows = db.session.scalars(select(OrderItem).where(OrderItem.order_id.in_(ids)))
    grouped: dict[int, list[OrderItem]] = {}
    for row in rows:
        grouped.setdefault(row.order_id, []).append(row)
    return grouped


def client_services(client_id: int, args: Mapping[str, str] | None = None) -> Page:
    """A page of the client's services with their products, oldest first (the client card's tab
    and the client area's list; a keyset page, docs/performance.md)."""
    return keyset_page(
        select(Service)
        .where(Service.client_id == client_id)
        .options(selectinload(Service.product)),
        id_column=Service.id,
        descending=False,
        args=args,
    )


def upcoming_services(client_id: int, limit: int) -> tuple[list[Service], int]:
    """The client's live services, next due first (those without a due date last), at most
    ``limit`` of them with their products, and how many there are: the dashboard shows the first
    few and links to the full list, in two queries whatever the client holds."""
    live = (Service.client_id == client_id, Service.status.in_(HOLDING))
    rows = db.session.scalars(
        select(Service)
        .where(*live)
        .options(joinedload(Service.product))  # one query: a few rows, one product each
        .order_by(Service.next_due_date.is_(None), Service.next_due_date, Service.id)
        .limit(limit)
    ).all()
    count = db.session.scalar(select(func.count(Service.id)).where(*live)) or 0
    return list(rows), count
