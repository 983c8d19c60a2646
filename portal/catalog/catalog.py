"""The catalogue as the billing engine sees it, and the staff operations that maintain it.

Rows (``product_price``, ``config_option_price``, ``addon_price``) become ``portal.billing``
price lists here, and a product as a client configured it becomes a ``billing.ProductPrice``;
nothing in this module does arithmetic on money itself. Every staff edit is validated with the
engine's own checks (a price with 5 decimals or a negative price is refused with the engine's
message, translated), audited, and committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from portal import billing
from portal.accounts import audit
from portal.accounts.models import Client
from portal.billing import Cycle, DayCount
from portal.billing.amounts import parse_amount
from portal.catalog import tax
from portal.catalog.models import (
    Addon,
    AddonPrice,
    ConfigOption,
    ConfigOptionChoice,
    ConfigOptionPrice,
    OptionKind,
    Product,
    ProductGroup,
    ProductPrice,
    ProductType,
    UpgradePath,
    Visibility,
)
from portal.core.extensions import db
from portal.orders.models import (
    Order,
    OrderItem,
    PromoCode,
    PromoCodeKind,
    PromoUse,
    Service,
    ServiceOption,
)
from portal.platform import runtime_settings
from portal.web import labels
from portal.web.formatting import decimal_text

#: The order staff and clients read cycles in, and the words they know (DOMAIN.md).
CYCLE_LABELS: dict[Cycle, Any] = {
    Cycle.FREE: _l("Free"),
    Cycle.ONE_TIME: _l("One time"),
    Cycle.MONTHLY: _l("Monthly"),
    Cycle.QUARTERLY: _l("Quarterly"),
    Cycle.SEMI_ANNUAL: _l("Semi-annually"),
    Cycle.ANNUAL: _l("Annually"),
    Cycle.BIENNIAL: _l("Every 2 years"),
    Cycle.TRIENNIAL: _l("Every 3 years"),
}
DAY_COUNT_LABELS: dict[DayCount, Any] = {
    DayCount.ACTUAL: _l("Actual days"),
    DayCount.THIRTY_360: _l("30/360 (every month counts 30 days)"),
}
labels.register("cycle", CYCLE_LABELS)
labels.register("day_count", DAY_COUNT_LABELS)
PRODUCT_TYPE_LABELS: dict[ProductType, Any] = {
    ProductType.SERVICE: _l("Hosting or service"),
    ProductType.LICENCE: _l("Licence"),
    ProductType.USAGE: _l("Usage-based"),
    ProductType.OTHER: _l("Other"),
}
VISIBILITY_LABELS: dict[Visibility, Any] = {
    Visibility.CLIENT_AREA: _l("Client area"),
    Visibility.STAFF_ONLY: _l("Staff only"),
    Visibility.HIDDEN: _l("Hidden"),
}
DEFAULT_DAY_COUNT = DayCount.ACTUAL

#: Translations of the billing engine's errors by code; params are formatted into them.
BILLING_MESSAGES: dict[str, Any] = {
    "float_not_allowed": _l("%(field)s must be a decimal number."),
    "invalid_amount": _l("%(field)s must be a decimal number, got %(value)s."),
    "negative_price": _l("%(field)s %(value)s must not be negative."),
    "price_precision": _l("%(field)s %(value)s has more than 4 decimal places."),
    "amount_precision": _l(
        "Amount %(value)s has more decimal places than %(currency)s allows (%(places)s)."
    ),
    "unknown_currency": _l("Unknown currency code %(currency)s."),
    "currency_mismatch": _l("Cannot combine amounts in %(expected)s and %(actual)s."),
    "date_outside_period": _l("Date %(date)s is outside the period from %(start)s to %(end)s."),
    "unknown_cycle": _l("Unknown billing cycle %(value)s."),
    "cycle_not_recurring": _l("The %(cycle)s billing cycle has no renewal dates."),
    "unknown_day_count": _l("Unknown day-count convention %(value)s."),
    "shorter_cycle_mid_term": _l(
        "Switching from %(old)s to %(new)s billing takes effect at the end of the paid period, "
        "on %(end)s."
    ),
    "one_time_not_changeable": _l(
        "A one-time purchase has no remaining period and cannot be changed."
    ),
    "period_required": _l("The current paid period is needed to change a %(cycle)s service."),
    "no_price_for_cycle": _l("No price is set for the %(cycle)s billing cycle."),
    "free_cycle_with_price": _l("A free service cannot cost %(value)s."),
    "invalid_quantity": _l("%(option)s: the quantity must be a whole number, got %(quantity)s."),
    "quantity_below_minimum": _l(
        "%(option)s: the quantity %(quantity)s is below the minimum of %(minimum)s."
    ),
    "quantity_above_maximum": _l(
        "%(option)s: the quantity %(quantity)s is above the maximum of %(maximum)s."
    ),
    "quantity_step": _l(
        "%(option)s: the quantity %(quantity)s must be %(minimum)s plus a multiple of %(step)s."
    ),
    "unknown_choice": _l("%(option)s: %(choice)s is not one of the available choices."),
    "invalid_promo_code": _l("Promo code %(code)s cannot be used."),
    "promo_value_out_of_range": _l(
        "Promo code %(code)s: a percentage must be above 0 and at most 100, got %(value)s."
    ),
    "promo_not_yet_valid": _l("Promo code %(code)s can be used from %(valid_from)s."),
    "promo_expired": _l("Promo code %(code)s expired on %(valid_to)s."),
    "promo_used_up": _l("Promo code %(code)s has been used the maximum number of times."),
    "promo_already_used": _l("Promo code %(code)s has already been used by this client."),
    "promo_not_applicable": _l(
        "Promo code %(code)s does not apply to this product or billing cycle."
    ),
    "no_tax_rate": _l("No tax rate applies on %(date)s."),
}


#: The names ``portal.billing`` gives the amounts it checks (it has no translations).
BILLING_FIELDS: dict[str, Any] = {
    "Price": _l("Price"),
    "Unit price": _l("Unit price"),
    "Quantity": _l("Quantity"),
    "Setup fee": _l("Setup fee"),
    "Tax rate": _l("Tax rate"),
    "Promo value": _l("Promo value"),
    "Amount": _l("Amount"),
    "Credit balance": _l("Credit balance"),
}


def _param(value: object) -> object:
    if isinstance(value, str) and value in BILLING_FIELDS:
        return str(BILLING_FIELDS[value])
    if isinstance(value, Decimal):
        return decimal_text(value)  # the locale's digits, nothing rounded: 100,12345
    if isinstance(value, Cycle):
        return str(CYCLE_LABELS[value]).lower()
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    return value


def billing_message(error: billing.BillingError) -> str:
    """The engine's error in the user's language (its English text when not translated)."""
    template = BILLING_MESSAGES.get(error.code)
    if template is None:
        return error.message
    params = {key: _param(value) for key, value in error.params.items()}
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return error.message


class CatalogError(ValueError):
    """A catalogue edit that cannot be saved; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- price lists --------------------------------------------------------------------------------


class PriceRow(Protocol):
    currency: str
    cycle: str
    price: Decimal
    setup_fee: Decimal


def price_list(rows: Iterable[PriceRow], currency: str) -> billing.PriceList:
    """The rows of one currency as a ``billing.PriceList`` (a missing cycle is not sold)."""
    return billing.PriceList(
        currency,
        {
            Cycle.parse(row.cycle): billing.CyclePrice(row.price, row.setup_fee)
            for row in rows
            if row.currency == currency
        },
    )


def option_model(
    option: ConfigOption, currency: str
) -> billing.QuantityOption | billing.DropdownOption:
    """A configurable option as the engine prices it."""
    if option.kind is OptionKind.QUANTITY:
        return billing.QuantityOption(
            option.name,
            option.unit,
            price_list([p for p in option.prices if p.choice_id is None], currency),
            minimum=option.minimum,
            maximum=option.maximum,
            step=option.step or 1,
        )
    return billing.DropdownOption(
        option.name,
        {
            choice.name: price_list(
                [p for p in option.prices if p.choice_id == choice.id], currency
            )
            for choice in option.choices
        },
    )


def default_options(product: Product) -> dict[int, int]:
    """What a new order starts with: each quantity at its minimum, each dropdown's first choice."""
    values: dict[int, int] = {}
    for option in product.options:
        if option.kind is OptionKind.QUANTITY:
            values[option.id] = option.minimum
        elif option.choices:
            values[option.id] = option.choices[0].id
    return values


def configure(
    product: Product, currency: str, values: Mapping[int, int] | None = None
) -> billing.ProductPrice:
    """``product`` configured with option ``values`` ({option id: quantity or choice id}).

    Options not in ``values`` take their defaults; a quantity of zero adds nothing (no sub-line).
    Raises the engine's errors for a quantity out of bounds or an unknown choice.
    """
    chosen = {**default_options(product), **(values or {})}
    selections = []
    for option in product.options:
        value = chosen.get(option.id)
        model = option_model(option, currency)
        if isinstance(model, billing.QuantityOption):
            selection = model.select(value if value is not None else option.minimum)
            if value == 0:
                continue
        else:
            names = {choice.id: choice.name for choice in option.choices}
            if value is None and not names:
                continue
            selection = model.select(names.get(value, str(value)))  # type: ignore[arg-type]
        selections.append(selection)
    return billing.ProductPrice(price_list(product.prices, currency), tuple(selections))


def clean_options(product: Product, values: Mapping[int, int] | None) -> dict[int, int]:
    """``values`` with the defaults filled in and options of other products dropped."""
    known = {option.id for option in product.options}
    chosen = default_options(product)
    chosen.update({key: value for key, value in (values or {}).items() if key in known})
    return chosen


def cycle_price(configured: billing.ProductPrice, cycle: Cycle) -> billing.CyclePrice:
    """Price and setup fee of one period of ``cycle``; a free cycle only needs the product to be
    offered free (options cost nothing then). Raises ``PriceNotAvailable`` if not sold."""
    if cycle is Cycle.FREE:
        configured.base.entry(cycle)
        return billing.CyclePrice(Decimal(0))
    return billing.CyclePrice(configured.price(cycle), configured.setup_fee(cycle))


def sellable_cycles(
    product: Product, currency: str, values: Mapping[int, int] | None = None
) -> list[Cycle]:
    """Cycles in which the product (with these options) has a price, in the usual order."""
    try:
        configured = configure(product, currency, values)
    except billing.BillingError:
        configured = billing.ProductPrice(price_list(product.prices, currency))
    cycles = []
    for cycle in Cycle:
        try:
            cycle_price(configured, cycle)
        except billing.BillingError:
            continue
        cycles.append(cycle)
    return cycles


def missing_prices(product: Product, currency: str) -> str | None:
    """What to tell someone ordering ``product`` in ``currency`` when it has no price in that
    currency at all (otherwise None): the order form then offers no cycle to choose."""
    if any(row.currency == currency for row in product.prices):
        return None
    return _("%(product)s has no prices in %(currency)s.", product=product.name, currency=currency)


def starting_prices(product: Product, currency: str) -> list[tuple[Cycle, Decimal]]:
    """What the product costs per cycle with its default options (the catalogue's "from")."""
    try:
        configured = configure(product, currency)
    except billing.BillingError:
        return []
    result = []
    for cycle in sellable_cycles(product, currency):
        result.append((cycle, cycle_price(configured, cycle).price))
    return result


def addon_price(addon: Addon, currency: str, cycle: Cycle) -> billing.CyclePrice:
    return price_list(addon.prices, currency).entry(cycle)


def day_count_of(product: Product) -> DayCount:
    """The product's convention, or the global default (setting ``day_count``)."""
    value = product.day_count or runtime_settings.get("day_count") or DEFAULT_DAY_COUNT.value
    try:
        return DayCount.parse(value)
    except billing.BillingError:
        return DEFAULT_DAY_COUNT


def line_tax(
    client: Client,
    product: Product,
    tax_date: date,
    *,
    client_rules: Iterable[billing.TaxRate] | None = None,
) -> billing.LineTax:
    """How a line of ``product`` for ``client`` is taxed on ``tax_date`` (the rates in Settings,
    the client's exemption and own tax rules, a plugin's decision; tax-inclusive or not per
    product). ``client_rules``: the client's rules when the caller has loaded them."""
    return tax.line_tax(
        client,
        tax_date=tax_date,
        product_type=product.type.value,
        inclusive=product.tax_inclusive,
        product_id=product.id,
        client_rules=client_rules,
    )


def service_options(service: Service) -> dict[int, int]:
    """The option values a service holds ({option id: quantity or choice id})."""
    values: dict[int, int] = {}
    for held in service.options:
        values[held.option_id] = held.choice_id if held.choice_id is not None else held.quantity
    return values


def set_service_options(service: Service, product: Product, values: Mapping[int, int]) -> None:
    """Store ``values`` as the service's option rows (the caller commits)."""
    kinds = {option.id: option.kind for option in product.options}
    rows = {row.option_id: row for row in service.options}
    for option_id, row in list(rows.items()):
        if option_id not in values or option_id not in kinds:
            service.options.remove(row)
    for option_id, value in values.items():
        if option_id not in kinds:
            continue
        row = rows.get(option_id)
        if row is None:
            row = ServiceOption(option_id=option_id)
            service.options.append(row)
        if kinds[option_id] is OptionKind.QUANTITY:
            row.quantity, row.choice_id = value, None
        else:
            row.quantity, row.choice_id = 1, value


def option_details(product: Product, currency: str, values: Mapping[int, int]) -> list[str]:
    """Sub-lines for the options (``Количество пользователей: 6 x Пользователь``)."""
    try:
        return list(configure(product, currency, values).details())
    except billing.BillingError:
        return []


def recurring_promo(service: Service) -> PromoCode | None:
    """The recurring promo code redeemed for the service, if any."""
    return db.session.scalar(
        select(PromoCode)
        .join(PromoUse, PromoUse.promo_code_id == PromoCode.id)
        .where(PromoUse.service_id == service.id, PromoCode.recurring.is_(True))
        .limit(1)
    )


def recurring_promo_services(client_ids: Sequence[int]) -> list[int]:
    """The services of these clients that hold a recurring promo code (their recurring amount
    is the price less the code)."""
    found: list[int] = []
    for n in range(0, len(client_ids), 500):  # SQLite limits the number of bound parameters
        found += db.session.scalars(
            select(PromoUse.service_id)
            .join(PromoCode, PromoUse.promo_code_id == PromoCode.id)
            .join(Service, Service.id == PromoUse.service_id)
            .where(Service.client_id.in_(client_ids[n : n + 500]), PromoCode.recurring.is_(True))
        )
    return found


def discounted(
    price: Decimal, promo: PromoCode | None, product: Product, cycle: Cycle, currency: str
) -> Decimal:
    """``price`` less a recurring promo code that covers the product and cycle."""
    if promo is None or not promo.recurring:
        return price
    model = promo_model(promo)
    if not model.covers(product.id, cycle, billing.Component.RECURRING):
        return price
    return price - model.discount(billing.round_money(price, currency), currency)


def recurring_amount(
    service: Service,
    *,
    product: Product | None = None,
    cycle: str | None = None,
    values: Mapping[int, int] | None = None,
) -> Decimal:
    """What the service costs per period: staff's override, or prices + options - discounts.

    With ``product``/``cycle``/``values`` it is what the service would cost after a change.
    """
    product = product or service.product
    chosen = Cycle.parse(cycle or service.cycle)
    if chosen is Cycle.FREE:
        return Decimal(0)
    options = service_options(service) if values is None else values
    price = configure(product, service.currency, options).price(chosen)
    return discounted(price, recurring_promo(service), product, chosen, service.currency)


# --- staff edits: groups and products -----------------------------------------------------------


def _commit(field: str, message: str) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise CatalogError(message, field) from None


def _name(value: str, field: str = "name") -> str:
    name = " ".join((value or "").split())
    if not name:
        raise CatalogError(_("Enter a name."), field)
    if len(name) > 200:
        raise CatalogError(_("The name is too long (200 characters at most)."), field)
    return name


def save_group(group: ProductGroup | None, name: str, sort_order: int = 0) -> ProductGroup:
    name = _name(name)
    clash = db.session.scalar(select(ProductGroup.id).where(ProductGroup.name == name))
    if clash is not None and (group is None or clash != group.id):
        raise CatalogError(_("A product group named %(name)s already exists.", name=name), "name")
    created = group is None
    if group is None:
        group = ProductGroup(name=name, sort_order=sort_order)
        db.session.add(group)
    group.name, group.sort_order = name, sort_order
    db.session.flush()
    audit.record(
        "catalog.group.create" if created else "catalog.group.update",
        "product_group",
        group.id,
        after={"name": name},
    )
    _commit("name", _("A product group named %(name)s already exists.", name=name))
    return group


def delete_group(group: ProductGroup) -> None:
    if db.session.scalar(select(Product.id).where(Product.group_id == group.id).limit(1)):
        raise CatalogError(_("The group still has products: move or delete them first."))
    audit.record("catalog.group.delete", "product_group", group.id, before={"name": group.name})
    db.session.delete(group)
    db.session.commit()


PRODUCT_FIELDS = (
    "group_id",
    "name",
    "description",
    "type",
    "visibility",
    "module",
    "tax_inclusive",
    "day_count",
    "stock",
    "welcome_email",
    "sort_order",
    "invoice_days_before_due",
    "suspend_after_days",
    "terminate_after_days",
)


def save_product(product: Product | None, values: Mapping[str, Any]) -> Product:
    """Create or update a product's details (prices are set with :func:`set_prices`)."""
    name = _name(values.get("name", ""))
    clash = db.session.scalar(select(Product.id).where(Product.name == name))
    if clash is not None and (product is None or clash != product.id):
        raise CatalogError(_("A product named %(name)s already exists.", name=name), "name")
    if db.session.get(ProductGroup, values.get("group_id") or 0) is None:
        raise CatalogError(_("Choose a product group."), "group_id")
    day_count = values.get("day_count") or None
    if day_count is not None:
        try:
            day_count = DayCount.parse(day_count).value
        except billing.BillingError as error:
            raise CatalogError(billing_message(error), "day_count") from None
    stock = values.get("stock")
    if stock is not None and stock < 0:
        raise CatalogError(_("Stock cannot be negative."), "stock")
    before = None if product is None else audit.snapshot(product, PRODUCT_FIELDS)
    if product is None:
        product = Product(name=name, group_id=values["group_id"])
        db.session.add(product)
    product.name = name
    product.group_id = values["group_id"]
    product.description = values.get("description") or ""
    product.type = ProductType(values.get("type") or ProductType.SERVICE)
    product.visibility = Visibility(values.get("visibility") or Visibility.CLIENT_AREA)
    product.module = (values.get("module") or "").strip() or None
    product.tax_inclusive = bool(values.get("tax_inclusive"))
    product.day_count = day_count
    product.stock = stock
    product.welcome_email = (values.get("welcome_email") or "").strip()
    product.sort_order = values.get("sort_order") or 0
    for key in ("invoice_days_before_due", "suspend_after_days", "terminate_after_days"):
        if key in values:
            setattr(product, key, values[key])  # None: the global setting
    db.session.flush()
    after = audit.snapshot(product, PRODUCT_FIELDS)
    audit.record_saved("catalog.product", "product", product.id, before, after)
    _commit("name", _("A product named %(name)s already exists.", name=name))
    return product


def product_in_use(product_id: int) -> bool:
    services = select(Service.id).where(Service.product_id == product_id)
    items = select(OrderItem.id).where(OrderItem.product_id == product_id)
    return bool(db.session.scalar(select(services.exists() | items.exists())))


def delete_product(product: Product) -> None:
    if product_in_use(product.id):
        raise CatalogError(
            _("The product has services or orders; hide it from the client area instead.")
        )
    db.session.execute(
        delete(UpgradePath).where(
            (UpgradePath.from_product_id == product.id) | (UpgradePath.to_product_id == product.id)
        )
    )
    audit.record("catalog.product.delete", "product", product.id, before={"name": product.name})
    db.session.delete(product)
    db.session.commit()


# --- prices -------------------------------------------------------------------------------------


def parse_money(raw: object, field: str, label: str) -> Decimal | None:
    """A price typed by staff ("4800.00", "4 800,00"); empty is None (not sold)."""
    if raw is None:
        return None
    if isinstance(raw, Decimal):
        value = raw
    else:
        text = str(raw).strip()
        if not text:
            return None
        try:
            value = parse_amount(text, signed=True, places=12)  # check_price names the places
        except ValueError:
            raise CatalogError(
                _("%(field)s must be a decimal number, got %(value)s.", field=label, value=raw),
                field,
            ) from None
    try:
        return billing.check_price(value, label)
    except billing.BillingError as error:
        raise CatalogError(billing_message(error), field) from None


@dataclass(frozen=True)
class PriceInput:
    """What staff typed for one cycle: the price (None: not sold) and the setup fee."""

    price: object = None
    setup_fee: object = None


def _validated_prices(
    currency: str, entries: Mapping[str, PriceInput]
) -> dict[Cycle, billing.CyclePrice]:
    try:
        billing.quantum(currency)
    except billing.BillingError as error:
        raise CatalogError(billing_message(error), "currency") from None
    prices: dict[Cycle, billing.CyclePrice] = {}
    for key, entry in entries.items():
        cycle = Cycle.parse(key)
        price = parse_money(entry.price, f"price-{cycle.value}", _("Price"))
        fee = parse_money(entry.setup_fee, f"setup-{cycle.value}", _("Setup fee"))
        if price is None:
            if fee:
                raise CatalogError(
                    _("Enter the price too, or clear the setup fee."), f"price-{cycle.value}"
                )
            continue
        prices[cycle] = billing.CyclePrice(price, fee or Decimal(0))
    try:
        billing.PriceList(currency, prices)
    except billing.BillingError as error:
        raise CatalogError(billing_message(error), f"price-{Cycle.FREE.value}") from None
    return prices


def set_prices(
    owner: Product | Addon | ConfigOption,
    currency: str,
    entries: Mapping[str, PriceInput],
    *,
    choice: ConfigOptionChoice | None = None,
) -> None:
    """Replace the prices of ``owner`` (per unit or per ``choice`` for an option) in
    ``currency`` with ``entries`` ({cycle: PriceInput}); audited, committed."""
    currency = currency.strip().upper()
    prices = _validated_prices(currency, entries)
    if isinstance(owner, Product):
        rows, model, key = owner.prices, ProductPrice, {}
    elif isinstance(owner, Addon):
        rows, model, key = owner.prices, AddonPrice, {}
    else:
        rows, model = owner.prices, ConfigOptionPrice
        key = {"choice_id": choice.id if choice is not None else None}
    chosen = [
        r
        for r in rows
        if r.currency == currency and getattr(r, "choice_id", None) == key.get("choice_id")
    ]
    before = {row.cycle: [str(row.price), str(row.setup_fee)] for row in chosen}
    for row in chosen:
        rows.remove(row)
    db.session.flush()
    for cycle, entry in prices.items():
        rows.append(
            model(
                currency=currency,
                cycle=cycle.value,
                price=entry.price,
                setup_fee=entry.setup_fee,
                **key,
            )
        )
    after = {cycle.value: [str(e.price), str(e.setup_fee)] for cycle, e in prices.items()}
    if before != after:
        audit.record(
            "catalog.prices.update",
            type(owner).__tablename__,
            owner.id,
            before={currency: before},
            after={currency: after},
            note="" if choice is None else choice.name,
        )
    db.session.commit()


def currencies_in_use(rows: Iterable[PriceRow], default: str) -> list[str]:
    found = sorted({row.currency for row in rows})
    return [default, *(c for c in found if c != default)]


# --- configurable options -----------------------------------------------------------------------


def save_option(
    product: Product, option: ConfigOption | None, values: Mapping[str, Any]
) -> ConfigOption:
    name = _name(values.get("name", ""))
    for other in product.options:
        if other.name == name and other is not option:
            raise CatalogError(
                _("The product already has an option named %(name)s.", name=name), "name"
            )
    kind = OptionKind(values.get("kind") or OptionKind.QUANTITY)
    minimum = values.get("minimum") or 0
    maximum = values.get("maximum")
    step = values.get("step") or 1
    if minimum < 0:
        raise CatalogError(_("The minimum cannot be negative."), "minimum")
    if maximum is not None and maximum < minimum:
        raise CatalogError(_("The maximum cannot be below the minimum."), "maximum")
    if step < 1:
        raise CatalogError(_("The step is at least 1."), "step")
    if option is not None and option.kind is not kind and option.prices:
        raise CatalogError(_("Remove the option's prices before changing its kind."), "kind")
    before = (
        None
        if option is None
        else audit.snapshot(option, ("name", "kind", "unit", "minimum", "maximum", "step"))
    )
    if option is None:
        option = ConfigOption(product_id=product.id, name=name, kind=kind)
        product.options.append(option)
    option.name, option.kind = name, kind
    option.unit = (values.get("unit") or "").strip()
    option.minimum, option.maximum, option.step = minimum, maximum, step
    option.sort_order = values.get("sort_order") or 0
    db.session.flush()
    after = audit.snapshot(option, ("name", "kind", "unit", "minimum", "maximum", "step"))
    audit.record("catalog.option.save", "config_option", option.id, before=before, after=after)
    db.session.commit()
    return option


def delete_option(option: ConfigOption) -> None:
    if db.session.scalar(select(ServiceOption.id).where(ServiceOption.option_id == option.id)):
        raise CatalogError(_("Services hold this option; it cannot be deleted."))
    audit.record("catalog.option.delete", "config_option", option.id, before={"name": option.name})
    db.session.delete(option)
    db.session.commit()


def save_choice(
    option: ConfigOption, choice: ConfigOptionChoice | None, name: str, sort_order: int = 0
) -> ConfigOptionChoice:
    name = _name(name)
    for other in option.choices:
        if other.name == name and other is not choice:
            raise CatalogError(
                _("The option already has a choice named %(name)s.", name=name), "name"
            )
    if choice is None:
        choice = ConfigOptionChoice(option_id=option.id, name=name, sort_order=sort_order)
        option.choices.append(choice)
    choice.name, choice.sort_order = name, sort_order
    db.session.flush()
    audit.record("catalog.choice.save", "config_option", option.id, after={"choice": name})
    db.session.commit()
    return choice


def delete_choice(option: ConfigOption, choice: ConfigOptionChoice) -> None:
    if db.session.scalar(select(ServiceOption.id).where(ServiceOption.choice_id == choice.id)):
        raise CatalogError(_("Services hold this choice; it cannot be deleted."))
    audit.record(
        "catalog.choice.delete", "config_option", option.id, before={"choice": choice.name}
    )
    option.choices.remove(choice)
    db.session.commit()


# --- add-ons and upgrade paths ------------------------------------------------------------------


def save_addon(addon: Addon | None, values: Mapping[str, Any]) -> Addon:
    name = _name(values.get("name", ""))
    clash = db.session.scalar(select(Addon.id).where(Addon.name == name))
    if clash is not None and (addon is None or clash != addon.id):
        raise CatalogError(_("An add-on named %(name)s already exists.", name=name), "name")
    products = list(
        db.session.scalars(select(Product).where(Product.id.in_(values.get("product_ids") or [])))
    )
    if addon is None:
        addon = Addon(name=name)
        db.session.add(addon)
    addon.name = name
    addon.description = values.get("description") or ""
    addon.activate_with_parent = bool(values.get("activate_with_parent", True))
    addon.products = products
    db.session.flush()
    audit.record(
        "catalog.addon.save",
        "addon",
        addon.id,
        after={"name": name, "products": [p.id for p in products]},
    )
    _commit("name", _("An add-on named %(name)s already exists.", name=name))
    return addon


def addons_for(product: Product) -> list[Addon]:
    from portal.catalog.models.catalog import addon_product

    return list(
        db.session.scalars(
            select(Addon)
            .join(addon_product, addon_product.c.addon_id == Addon.id)
            .where(addon_product.c.product_id == product.id)
            .order_by(Addon.name)
        )
    )


def upgrade_targets(product: Product) -> list[Product]:
    """Products a service of ``product`` may change to (its upgrade/downgrade paths)."""
    return list(
        db.session.scalars(
            select(Product)
            .join(UpgradePath, UpgradePath.to_product_id == Product.id)
            .where(UpgradePath.from_product_id == product.id)
            .order_by(Product.sort_order, Product.name)
        )
    )


def set_upgrade_paths(product: Product, target_ids: Sequence[int]) -> None:
    wanted = {pid for pid in target_ids if pid != product.id}
    existing = set(
        db.session.scalars(
            select(UpgradePath.to_product_id).where(UpgradePath.from_product_id == product.id)
        )
    )
    valid = set(db.session.scalars(select(Product.id).where(Product.id.in_(wanted))))
    db.session.execute(
        delete(UpgradePath).where(
            UpgradePath.from_product_id == product.id, UpgradePath.to_product_id.not_in(valid)
        )
    )
    for target in sorted(valid - existing):
        db.session.add(UpgradePath(from_product_id=product.id, to_product_id=target))
    if valid != existing:
        audit.record(
            "catalog.upgrade_paths.update",
            "product",
            product.id,
            before={"to": sorted(existing)},
            after={"to": sorted(valid)},
        )
    db.session.commit()


# --- promo codes --------------------------------------------------------------------------------


def promo_model(promo: PromoCode) -> billing.PromoCode:
    """The stored code as the engine judges and applies it."""
    return billing.PromoCode(
        promo.code,
        billing.PromoKind(promo.kind.value),
        promo.value,
        promo.description or promo.code,
        products=frozenset(promo.product_ids or ()),
        cycles=frozenset(Cycle.parse(c) for c in promo.cycles or ()),
        components=frozenset({billing.Component.RECURRING, billing.Component.ONE_TIME}),
        recurring=promo.recurring,
        valid_from=promo.valid_from,
        valid_to=promo.valid_to,
        max_uses=promo.max_uses,
        once_per_client=promo.once_per_client,
        currency=promo.currency,
    )


PROMO_FIELDS = (
    "code",
    "kind",
    "value",
    "description",
    "currency",
    "product_ids",
    "cycles",
    "recurring",
    "valid_from",
    "valid_to",
    "max_uses",
    "once_per_client",
    "active",
)


def save_promo(promo: PromoCode | None, values: Mapping[str, Any], *, now: Any) -> PromoCode:
    """Create or update a promo code, validated by building the engine's ``PromoCode``."""
    code = "".join((values.get("code") or "").split()).upper()
    if not code:
        raise CatalogError(_("Enter the code."), "code")
    if len(code) > 50:
        raise CatalogError(_("The code is too long (50 characters at most)."), "code")
    clash = db.session.scalar(select(PromoCode.id).where(func.upper(PromoCode.code) == code))
    if clash is not None and (promo is None or clash != promo.id):
        raise CatalogError(_("A promo code %(code)s already exists.", code=code), "code")
    kind = PromoCodeKind(values.get("kind") or PromoCodeKind.PERCENT)
    value = parse_money(values.get("value"), "value", _("Value"))
    if value is None:
        raise CatalogError(_("Enter the discount."), "value")
    currency = (values.get("currency") or "").strip().upper() or None
    if kind is PromoCodeKind.FIXED:
        currency = currency or "RUB"
        try:
            billing.check_minor_units(value, currency)
        except billing.BillingError as error:
            raise CatalogError(billing_message(error), "value") from None
    valid_from, valid_to = values.get("valid_from"), values.get("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise CatalogError(_("The last day cannot be before the first day."), "valid_to")
    max_uses = values.get("max_uses")
    if max_uses is not None and max_uses < 1:
        raise CatalogError(_("The maximum number of uses is at least 1."), "max_uses")
    before = None if promo is None else audit.snapshot(promo, PROMO_FIELDS)
    if promo is None:
        promo = PromoCode(code=code, kind=kind, value=value, created_at=now)
        db.session.add(promo)
    promo.code, promo.kind, promo.value, promo.currency = code, kind, value, currency
    promo.description = (values.get("description") or "").strip()
    promo.product_ids = sorted(int(p) for p in values.get("product_ids") or [])
    promo.cycles = [Cycle.parse(c).value for c in values.get("cycles") or []]
    promo.recurring = bool(values.get("recurring"))
    promo.valid_from, promo.valid_to = valid_from, valid_to
    promo.max_uses = max_uses
    promo.once_per_client = bool(values.get("once_per_client"))
    promo.active = bool(values.get("active", True))
    try:
        promo_model(promo)
    except billing.BillingError as error:
        db.session.rollback()
        raise CatalogError(billing_message(error), "value") from None
    db.session.flush()
    after = audit.snapshot(promo, PROMO_FIELDS)
    audit.record_saved("catalog.promo", "promo_code", promo.id, before, after)
    _commit("code", _("A promo code %(code)s already exists.", code=code))
    return promo


def promo_use_counts(promo_ids: Sequence[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(PromoUse.promo_code_id, func.count(PromoUse.id))
        .where(PromoUse.promo_code_id.in_(promo_ids))
        .group_by(PromoUse.promo_code_id)
    ).all()
    return {promo_id: count for promo_id, count in rows}


def delete_promo(promo: PromoCode) -> None:
    """Delete an unused code; a used one is deactivated instead (its uses are history)."""
    used = db.session.scalar(select(PromoUse.id).where(PromoUse.promo_code_id == promo.id).limit(1))
    referenced = db.session.scalar(select(Order.id).where(Order.promo_code_id == promo.id).limit(1))
    if used or referenced:
        promo.active = False
        audit.record("catalog.promo.deactivate", "promo_code", promo.id, after={"active": False})
    else:
        audit.record("catalog.promo.delete", "promo_code", promo.id, before={"code": promo.code})
        db.session.delete(promo)
    db.session.commit()
