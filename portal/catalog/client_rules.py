"""A client's personal discounts and tax rules: validated, stored, audited, given to the engine.

A personal discount is a percentage (15 is 15 % off, two decimals at most) or a coefficient
(0.8500, four decimals at most, above 0 and at most 1) for one product or all products, valid
from one date to another, both inclusive (either may be open). Two discounts of one client for the
same product (or both for all products) may not overlap in time; a product's own discount and an
all-products one may: the engine then takes the product's own (``portal.billing.discounts``).

A personal discount applies to the price of the product with its options, recurring or one-time,
for the period a line bills: on the first invoice of an order the discount valid on the day the
order is priced, at a renewal the one valid on the first day of the renewed period. Setup fees,
add-ons and usage are charged at their list prices (a plugin's ``setup_coefficient`` hook may
multiply a product's setup fee: ``portal.orders.orders.item_lines``). A price staff set by hand
(an override) is final: no discount applies to it. A discount and a promo code never stack: a
line with a personal discount gets no promo code (``billing.resolve_discount``).

A client tax rule is a rate for the client's lines on a tax date within its window, for products
of some types (none: all). The rules are tried before the general rates, the most specific first
(fewest product types, then the earliest start); a tax-exempt client still pays no tax, and a
plugin's decision still comes first (``portal.billing.tax``). Two rules for the same product types
may not overlap in time.

Ending a rule closes it yesterday, so it no longer applies from today; a rule that has not begun
by then is removed instead. Invoices already issued never change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import billing
from portal.accounts import audit
from portal.accounts.models import Client
from portal.billing.amounts import parse_amount
from portal.catalog.models import ClientDiscount, ClientTaxRule, DiscountKind, Product, ProductType
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.core.transactions import unit_of_work
from portal.web.formatting import plain_number

HUNDRED = Decimal(100)
#: Clients read per query (the billing run's batch size).
CHUNK = 500
DISCOUNT_FIELDS = ("product_id", "kind", "value", "valid_from", "valid_to", "note")
TAX_RULE_FIELDS = ("percent", "valid_from", "valid_to", "product_types", "name")


class RuleError(ValueError):
    """A rule that cannot be saved; ``field`` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- what the engine gets -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClientRules:
    """A client's rules as the engine takes them: discounts with their windows, tax rates."""

    discounts: tuple[tuple[date | None, date | None, billing.Discount], ...] = ()
    taxes: tuple[billing.TaxRate, ...] = ()

    def discounts_on(self, day: date) -> tuple[billing.Discount, ...]:
        """The personal discounts valid on ``day``."""
        return tuple(
            discount
            for start, end, discount in self.discounts
            if (start is None or start <= day) and (end is None or day <= end)
        )


NO_RULES = ClientRules()


def engine_discount(row: ClientDiscount) -> billing.Discount:
    """The stored discount as the engine's: the product's price, recurring or one-time."""
    coefficient = row.coefficient
    return billing.Discount(recurring=coefficient, one_time=coefficient, product=row.product_id)


def engine_tax_rate(row: ClientTaxRule) -> billing.TaxRate:
    return billing.TaxRate(
        row.percent,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        product_types=frozenset(row.product_types or ()),
        name=row.name,
    )


def _tax_order(row: ClientTaxRule) -> tuple[bool, int, date, int]:
    types = row.product_types or ()
    return (not types, len(types), row.valid_from or date.min, row.id)


def rules_for(client_ids: Iterable[int]) -> dict[int, ClientRules]:
    """The rules of many clients in two queries per :data:`CHUNK` of them (the billing run
    loads a batch at once); clients without rules are absent (use :data:`NO_RULES`)."""
    ids = sorted(set(client_ids))
    discounts: dict[int, list[ClientDiscount]] = defaultdict(list)
    taxes: dict[int, list[ClientTaxRule]] = defaultdict(list)
    for n in range(0, len(ids), CHUNK):  # a bound parameter per id: SQLite limits their number
        chunk = ids[n : n + CHUNK]
        for row in db.session.scalars(
            select(ClientDiscount)
            .where(ClientDiscount.client_id.in_(chunk))
            .order_by(ClientDiscount.id)
        ):
            discounts[row.client_id].append(row)
        for rule in db.session.scalars(
            select(ClientTaxRule).where(ClientTaxRule.client_id.in_(chunk))
        ):
            taxes[rule.client_id].append(rule)
    return {
        client_id: ClientRules(
            tuple(
                (row.valid_from, row.valid_to, engine_discount(row))
                for row in discounts.get(client_id, ())
            ),
            tuple(engine_tax_rate(row) for row in sorted(taxes.get(client_id, ()), key=_tax_order)),
        )
        for client_id in {*discounts, *taxes}
    }


def client_rules(client_id: int | None) -> ClientRules:
    """One client's rules (a client not saved yet has none)."""
    if client_id is None:
        return NO_RULES
    return rules_for([client_id]).get(client_id, NO_RULES)


def personal_discounts(client_id: int | None, on: date) -> tuple[billing.Discount, ...]:
    """The client's personal discounts valid on ``on``."""
    return client_rules(client_id).discounts_on(on)


def client_tax_rates(client_id: int | None) -> tuple[billing.TaxRate, ...]:
    """The client's tax rules in the order the engine tries them."""
    return client_rules(client_id).taxes


def discount_detail(coefficient: Decimal) -> str:
    """The sub-line a discounted line carries: "Personal discount 15 %" (in the caller's
    locale), so the client sees why the amount is below the price."""
    percent = ((1 - coefficient) * HUNDRED).normalize()
    return _("Personal discount %(percent)s %%", percent=_number(percent))


def _number(value: Decimal) -> str:
    """A percentage as people write it: no exponent, no trailing zeros, a comma in Russian."""
    text = plain_number(value)
    locale = get_locale()
    return text.replace(".", ",") if locale is not None and locale.language == "ru" else text


# --- what the screens show ----------------------------------------------------------------------


def discounts_of(client_id: int) -> list[ClientDiscount]:
    return list(
        db.session.scalars(
            select(ClientDiscount)
            .where(ClientDiscount.client_id == client_id)
            .options(selectinload(ClientDiscount.product))
            .order_by(ClientDiscount.valid_from.desc().nulls_last(), ClientDiscount.id.desc())
        )
    )


def tax_rules_of(client_id: int) -> list[ClientTaxRule]:
    return sorted(
        db.session.scalars(select(ClientTaxRule).where(ClientTaxRule.client_id == client_id)),
        key=_tax_order,
    )


def product_choices() -> list[tuple[int, str]]:
    return [(p.id, p.name) for p in db.session.scalars(select(Product).order_by(Product.name))]


def window_label(valid_from: date | None, valid_to: date | None) -> str:
    """ "01.03.2026 – 31.05.2026"; an open end is "…"."""
    start = f"{valid_from:%d.%m.%Y}" if valid_from else "…"
    end = f"{valid_to:%d.%m.%Y}" if valid_to else "…"
    return f"{start} – {end}"


def is_current(row: ClientDiscount | ClientTaxRule, today: date) -> bool:
    return (row.valid_from is None or row.valid_from <= today) and (
        row.valid_to is None or today <= row.valid_to
    )


# --- validation ---------------------------------------------------------------------------------


def _decimal(value: Any, field: str, message: str) -> Decimal:
    if isinstance(value, float):
        raise RuleError(message, field)
    if isinstance(value, Decimal):
        number = value
    else:
        try:
            number = parse_amount(str(value), signed=True, places=8)
        except ValueError:
            raise RuleError(message, field) from None
    if not number.is_finite():
        raise RuleError(message, field)
    return number


def _places(value: Decimal, places: int) -> bool:
    return value == value.quantize(Decimal(1).scaleb(-places))


def _window(values: Mapping[str, Any]) -> tuple[date | None, date | None]:
    start, end = values.get("valid_from"), values.get("valid_to")
    if start is not None and end is not None and end < start:
        raise RuleError(_("The end date is before the start date."), "valid_to")
    return start, end


def _overlaps(
    start: date | None, end: date | None, other_start: date | None, other_end: date | None
) -> bool:
    return (start or date.min) <= (other_end or date.max) and (other_start or date.min) <= (
        end or date.max
    )


def clean_discount(client_id: int, values: Mapping[str, Any], row_id: int | None) -> dict:
    """The discount's column values, or a :class:`RuleError` saying what is wrong."""
    kind = DiscountKind(values.get("kind") or DiscountKind.PERCENT)
    raw = values.get("value")
    if raw is None or str(raw).strip() == "":
        raise RuleError(_("Enter the discount."), "value")
    if kind is DiscountKind.PERCENT:
        message = _("The discount percent must be from 0 to 100, with 2 decimal places at most.")
        value = _decimal(raw, "value", message)
        if not (0 <= value <= HUNDRED and _places(value, 2)):
            raise RuleError(message, "value")
    else:
        message = _(
            "The coefficient must be above 0 and at most 1, with 4 decimal places at most "
            "(0.8500 is a discount of 15 percent)."
        )
        value = _decimal(raw, "value", message)
        if not (0 < value <= 1 and _places(value, 4)):
            raise RuleError(message, "value")
    product_id = values.get("product_id") or None
    product = db.session.get(Product, product_id) if product_id is not None else None
    if product_id is not None and product is None:
        raise RuleError(_("Choose a product from the list."), "product_id")
    start, end = _window(values)
    others = db.session.scalars(
        select(ClientDiscount).where(
            ClientDiscount.client_id == client_id,
            ClientDiscount.product_id.is_(None)
            if product_id is None
            else ClientDiscount.product_id == product_id,
            ClientDiscount.id != (row_id or 0),
        )
    )
    for other in others:
        if _overlaps(start, end, other.valid_from, other.valid_to):
            raise RuleError(
                _(
                    "The client already has a discount for %(product)s for %(window)s: "
                    "the dates overlap. End that discount first or choose other dates.",
                    product=product.name if product else _("all products"),
                    window=window_label(other.valid_from, other.valid_to),
                ),
                "valid_from",
            )
    return {
        "product_id": product_id,
        "kind": kind,
        "value": value.quantize(Decimal("0.0001")),
        "valid_from": start,
        "valid_to": end,
        "note": " ".join(str(values.get("note") or "").split())[:255],
    }


def clean_tax_rule(client_id: int, values: Mapping[str, Any], row_id: int | None) -> dict:
    """The tax rule's column values, or a :class:`RuleError` saying what is wrong."""
    message = _("The tax rate must be from 0 to 100 percent, with 2 decimal places at most.")
    raw = values.get("percent")
    if raw is None or str(raw).strip() == "":
        raise RuleError(_("Enter the tax rate."), "percent")
    percent = _decimal(raw, "percent", message)
    if not (0 <= percent <= HUNDRED and _places(percent, 2)):
        raise RuleError(message, "percent")
    known = {t.value for t in ProductType}
    types = sorted({str(t) for t in values.get("product_types") or ()})
    if any(t not in known for t in types):
        raise RuleError(_("Choose product types from the list."), "product_types")
    start, end = _window(values)
    for other in db.session.scalars(
        select(ClientTaxRule).where(
            ClientTaxRule.client_id == client_id, ClientTaxRule.id != (row_id or 0)
        )
    ):
        same_types = sorted(other.product_types or ()) == types
        if same_types and _overlaps(start, end, other.valid_from, other.valid_to):
            raise RuleError(
                _(
                    "The client already has a tax rule for the same product types for "
                    "%(window)s: the dates overlap. End that rule first or choose other dates.",
                    window=window_label(other.valid_from, other.valid_to),
                ),
                "valid_from",
            )
    return {
        "percent": percent.quantize(Decimal("0.0001")),
        "valid_from": start,
        "valid_to": end,
        "product_types": types,
        "name": " ".join(str(values.get("name") or "").split())[:100],
    }


# --- saving -------------------------------------------------------------------------------------


def _save(
    model: type[ClientDiscount] | type[ClientTaxRule],
    entity: str,
    fields: Sequence[str],
    client: Client,
    data: Mapping[str, Any],
    row: Any,
) -> Any:
    with unit_of_work():
        before = None if row is None else audit.snapshot(row, fields)
        if row is None:
            row = model(client_id=client.id, created_at=clock().now(), **data)
            db.session.add(row)
        else:
            for key, value in data.items():
                setattr(row, key, value)
        db.session.flush()
        audit.record_saved(
            entity, entity, row.id, before, audit.snapshot(row, fields), client_id=client.id
        )
    return row


def save_discount(
    client: Client, values: Mapping[str, Any], discount: ClientDiscount | None = None
) -> ClientDiscount:
    """Add a personal discount (``discount`` None) or change one. Commits; audited."""
    data = clean_discount(client.id, values, discount.id if discount else None)
    return _save(ClientDiscount, "client_discount", DISCOUNT_FIELDS, client, data, discount)


def save_tax_rule(
    client: Client, values: Mapping[str, Any], rule: ClientTaxRule | None = None
) -> ClientTaxRule:
    """Add a client tax rule (``rule`` None) or change one. Commits; audited."""
    data = clean_tax_rule(client.id, values, rule.id if rule else None)
    return _save(ClientTaxRule, "client_tax_rule", TAX_RULE_FIELDS, client, data, rule)


def end_rule(row: ClientDiscount | ClientTaxRule, today: date) -> bool:
    """Stop a rule from applying from ``today``: closed yesterday, or removed when it has not
    begun by then. True when it was removed. Commits; audited."""
    entity = row.__tablename__
    fields = DISCOUNT_FIELDS if isinstance(row, ClientDiscount) else TAX_RULE_FIELDS
    yesterday = today - timedelta(days=1)
    with unit_of_work():
        before = audit.snapshot(row, fields)
        if row.valid_from is not None and row.valid_from > yesterday:
            audit.record(f"{entity}.delete", entity, row.id, before=before, client_id=row.client_id)
            db.session.delete(row)
            return True
        if row.valid_to is None or row.valid_to > yesterday:
            row.valid_to = yesterday
            audit.record(
                f"{entity}.end",
                entity,
                row.id,
                before={"valid_to": before["valid_to"]},
                after={"valid_to": yesterday.isoformat()},
                client_id=row.client_id,
            )
    return False


# --- a merge ------------------------------------------------------------------------------------


def move_rules(source_id: int, target_id: int) -> None:
    """A merged client's rules follow it to the client kept, except those that overlap one of
    the kept client's own for the same product (or product types): the kept client's stand."""
    kept_discounts = list(
        db.session.scalars(select(ClientDiscount).where(ClientDiscount.client_id == target_id))
    )
    for row in db.session.scalars(
        select(ClientDiscount).where(ClientDiscount.client_id == source_id)
    ).all():
        clash = any(
            other.product_id == row.product_id
            and _overlaps(row.valid_from, row.valid_to, other.valid_from, other.valid_to)
            for other in kept_discounts
        )
        if clash:
            db.session.delete(row)
        else:
            row.client_id = target_id
    kept_taxes = list(
        db.session.scalars(select(ClientTaxRule).where(ClientTaxRule.client_id == target_id))
    )
    for rule in db.session.scalars(
        select(ClientTaxRule).where(ClientTaxRule.client_id == source_id)
    ).all():
        clash = any(
            sorted(other.product_types or ()) == sorted(rule.product_types or ())
            and _overlaps(rule.valid_from, rule.valid_to, other.valid_from, other.valid_to)
            for other in kept_taxes
        )
        if clash:
            db.session.delete(rule)
        else:
            rule.client_id = target_id
    db.session.flush()
