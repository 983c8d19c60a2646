"""Forms of the orders area: staff's orders and services, and what the order and change forms
post (options, add-ons). Choices from the database are set by the view; money is typed as text
and parsed by ``portal.catalog.catalog.parse_money`` so that the billing engine's own checks
(4 decimals, not negative) produce the error messages."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.catalog import catalog
from portal.catalog.catalog import CatalogError
from portal.catalog.models import Product
from portal.orders import service_changes
from portal.orders.models import OrderStatus, Service
from portal.orders.models.order import ChangeStatus, OrderKind
from portal.orders.models.service import SERVICE_STATUS_LABELS
from portal.orders.service_changes import ChangeRequest
from portal.web.forms import BoundedIntegerField, enum_choices, text_length
from portal.web.query_args import MAX_ID, db_id, strict_int

ORDER_STATUS_LABELS = {
    OrderStatus.PENDING: _l("Pending"),
    OrderStatus.ACTIVE: _l("Active"),
    OrderStatus.CANCELLED: _l("Cancelled"),
    OrderStatus.FRAUD: _l("Fraud"),
}
ORDER_KIND_LABELS = {
    OrderKind.NEW: _l("New products"),
    OrderKind.CHANGE: _l("Change of package"),
    OrderKind.ADDON: _l("Add-on to a service"),
}
CHANGE_STATUS_LABELS = {
    ChangeStatus.PENDING: _l("Waiting for payment"),
    ChangeStatus.APPLIED: _l("Applied"),
    ChangeStatus.CANCELLED: _l("Cancelled"),
}


class AcceptOrderForm(FlaskForm):
    send_email = BooleanField(_l("Send the e-mail to the client"))
    generate_invoice = BooleanField(_l("Generate the invoice"))


class CancelOrderForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class StaffOrderForm(FlaskForm):
    """The product part is rendered by hand (cycle and options depend on the product)."""

    client_id = BoundedIntegerField(
        _l("Client ID"), validators=[DataRequired(), NumberRange(min=1)]
    )
    product_id = SelectField(_l("Product"), coerce=int)
    price_override = StringField(
        _l("Price override per period"), validators=[Optional(), Length(max=30)]
    )
    promo_code = StringField(_l("Promo code"), validators=[Optional(), Length(max=50)])
    skip_email = BooleanField(_l("Do not send the e-mail"))
    generate_invoice = BooleanField(_l("Generate the invoice"), default=True)
    accept_now = BooleanField(_l("Accept at once"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), text_length()])


class ServiceForm(FlaskForm):
    status = SelectField(_l("Status"), choices=enum_choices(SERVICE_STATUS_LABELS))
    next_due_date = DateField(_l("Next due date"), validators=[Optional()])
    price_override = StringField(
        _l("Price override (empty: from the catalogue)"), validators=[Optional()]
    )
    username = StringField(_l("Username"), validators=[Optional(), Length(max=100)])
    no_suspend_until = DateField(_l("Do not suspend until"), validators=[Optional()])
    terminate_at_period_end = BooleanField(_l("Terminate at the end of the paid period"))
    termination_reason = StringField(
        _l("Reason for termination"), validators=[Optional(), Length(max=255)]
    )
    admin_notes = TextAreaField(_l("Admin notes"), validators=[Optional(), text_length()])


class MoveServiceForm(FlaskForm):
    client_id = BoundedIntegerField(
        _l("Move to client ID"), validators=[DataRequired(), NumberRange(min=1)]
    )


def read_options(product: Product, data: Mapping[str, Any]) -> tuple[dict[int, int], list[str]]:
    """Option values typed in a form (``option-<id>``: a quantity or a choice id).

    Anything that is not a whole number is reported, not raised; the billing engine then judges
    the numbers (minimum, maximum, step, existing choice).
    """
    values: dict[int, int] = {}
    errors: list[str] = []
    for option in product.options:
        raw = str(data.get(f"option-{option.id}") or "").strip()
        if not raw:
            continue
        value = strict_int(raw.removeprefix("-"), maximum=MAX_ID)
        if value is None:
            errors.append(_("%(option)s: enter a whole number.", option=option.name))
            continue
        value = -value if raw.startswith("-") else value
        values[option.id] = value
    return values, errors


def read_addons(data: Any) -> tuple[int, ...]:
    getter = getattr(data, "getlist", None)
    raw = getter("addon") if getter else []
    return tuple(sorted({number for value in raw if (number := db_id(value)) is not None}))


def read_change_request(service: Service, *, staff: bool) -> tuple[ChangeRequest | None, list[str]]:
    """The change asked for in the form; junk becomes messages, never an exception."""
    product_id = db_id(request.values.get("product_id")) or service.product_id
    targets = {p.id: p for p in service_changes.change_targets(service, staff=staff)}
    product = targets.get(product_id)
    if product is None:
        return None, [_("Choose one of the products offered for this service.")]
    options, errors = read_options(product, request.values)
    override: Decimal | None = None
    if staff and (request.values.get("price_override") or "").strip():
        try:
            override = catalog.parse_money(
                request.values["price_override"], "price_override", _("Price override")
            )
        except CatalogError as exc:
            errors.append(str(exc))
    cycle = (request.values.get("cycle") or "").strip() or None
    if errors:
        return None, errors
    return ChangeRequest(
        product_id=product.id, cycle=cycle, options=options, price_override=override
    ), []


def change_form_context(service: Service, *, staff: bool) -> dict[str, Any]:
    """What the change form shows: targets, the chosen product's cycles and options."""
    targets = service_changes.change_targets(service, staff=staff)
    chosen = db_id(request.values.get("product_id")) or service.product_id
    product = next((p for p in targets if p.id == chosen), service.product)
    same = product.id == service.product_id
    return {
        "service": service,
        "targets": targets,
        "product": product,
        "cycles": catalog.sellable_cycles(product, service.currency),
        "cycle_labels": catalog.CYCLE_LABELS,
        "day_count_labels": catalog.DAY_COUNT_LABELS,
        "values": request.values if "cycle" in request.values else {},
        "defaults": catalog.service_options(service) if same else catalog.default_options(product),
        "selected_cycle": service.cycle,
    }
