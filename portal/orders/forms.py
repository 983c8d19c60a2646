"""Staff forms for the catalogue, orders and services. Choices from the database are set by the
view; money is typed as text and parsed by ``portal.catalog.catalog.parse_money`` so that the
billing engine's own checks (4 decimals, not negative) produce the error messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.catalog.catalog import (
    CYCLE_LABELS,
    DAY_COUNT_LABELS,
    PRODUCT_TYPE_LABELS,
    VISIBILITY_LABELS,
)
from portal.catalog.models import OptionKind, Product
from portal.orders.models import OrderStatus, ServiceStatus
from portal.orders.models.order import ChangeStatus, OrderKind, PromoCodeKind
from portal.web.query_args import MAX_ID, db_id

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
SERVICE_STATUS_LABELS = {
    ServiceStatus.PENDING: _l("Pending"),
    ServiceStatus.ACTIVE: _l("Active"),
    ServiceStatus.SUSPENDED: _l("Suspended"),
    ServiceStatus.TERMINATED: _l("Terminated"),
    ServiceStatus.CANCELLED: _l("Cancelled"),
}
CHANGE_STATUS_LABELS = {
    ChangeStatus.PENDING: _l("Waiting for payment"),
    ChangeStatus.APPLIED: _l("Applied"),
    ChangeStatus.CANCELLED: _l("Cancelled"),
}
OPTION_KIND_LABELS = {OptionKind.QUANTITY: _l("Quantity"), OptionKind.DROPDOWN: _l("Dropdown")}
PROMO_KIND_LABELS = {PromoCodeKind.PERCENT: _l("Percent"), PromoCodeKind.FIXED: _l("Fixed amount")}


def _choices(labels: dict[Any, Any]) -> list[tuple[str, Any]]:
    return [(key.value, label) for key, label in labels.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    sort_order = IntegerField(_l("Sort order"), default=0, validators=[Optional()])


class ProductForm(FlaskForm):
    group_id = SelectField(_l("Product group"), coerce=int)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    type = SelectField(_l("Type"), choices=_choices(PRODUCT_TYPE_LABELS))
    visibility = SelectField(_l("Visibility"), choices=_choices(VISIBILITY_LABELS))
    module = StringField(_l("Provisioning module"), validators=[Optional(), Length(max=100)])
    tax_inclusive = BooleanField(_l("Prices include tax"))
    day_count = SelectField(
        _l("Day-count convention"),
        choices=[("", _l("Default from settings")), *_choices(DAY_COUNT_LABELS)],
    )
    stock = IntegerField(_l("Stock (empty: unlimited)"), validators=[Optional()])
    welcome_email = StringField(_l("Welcome e-mail"), validators=[Optional(), Length(max=100)])
    sort_order = IntegerField(_l("Sort order"), default=0, validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[Optional()])
    invoice_days_before_due = IntegerField(
        _l("Renewal invoice days before due (empty: the setting)"),
        validators=[Optional(), NumberRange(0, 365)],
    )
    suspend_after_days = IntegerField(
        _l("Suspend when overdue, days (empty: the setting; 0: never)"),
        validators=[Optional(), NumberRange(0, 3650)],
    )
    terminate_after_days = IntegerField(
        _l("Terminate when overdue, days (empty: the setting; 0: never)"),
        validators=[Optional(), NumberRange(0, 3650)],
    )


class OptionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=_choices(OPTION_KIND_LABELS))
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=50)])
    minimum = IntegerField(_l("Minimum"), default=0, validators=[Optional()])
    maximum = IntegerField(_l("Maximum (empty: no limit)"), validators=[Optional()])
    step = IntegerField(_l("Step"), default=1, validators=[Optional()])
    sort_order = IntegerField(_l("Sort order"), default=0, validators=[Optional()])


class ChoiceForm(FlaskForm):
    name = StringField(_l("Choice"), validators=[DataRequired(), Length(max=200)])
    sort_order = IntegerField(_l("Sort order"), default=0, validators=[Optional()])


class AddonForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional()])
    product_ids = MultiCheckboxField(_l("Sold with"), coerce=int)
    activate_with_parent = BooleanField(_l("Activate with the service"), default=True)


class UpgradePathsForm(FlaskForm):
    target_ids = MultiCheckboxField(_l("Can be changed to"), coerce=int)


class PromoForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=50)])
    kind = SelectField(_l("Kind"), choices=_choices(PROMO_KIND_LABELS))
    value = StringField(_l("Value (percent or amount)"), validators=[DataRequired()])
    currency = StringField(_l("Currency of a fixed amount"), validators=[Optional(), Length(max=3)])
    description = StringField(_l("Text on the invoice"), validators=[Optional(), Length(max=255)])
    product_ids = MultiCheckboxField(_l("Products (none: all)"), coerce=int)
    cycles = MultiCheckboxField(_l("Billing cycles (none: all)"), choices=_choices(CYCLE_LABELS))
    recurring = BooleanField(_l("Recurring (every renewal, not only the first invoice)"))
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid to (inclusive)"), validators=[Optional()])
    max_uses = IntegerField(_l("Maximum uses"), validators=[Optional()])
    once_per_client = BooleanField(_l("Once per client"))
    active = BooleanField(_l("Active"), default=True)


class AcceptOrderForm(FlaskForm):
    send_email = BooleanField(_l("Send the e-mail to the client"))
    generate_invoice = BooleanField(_l("Generate the invoice"))


class CancelOrderForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class StaffOrderForm(FlaskForm):
    """The product part is rendered by hand (cycle and options depend on the product)."""

    client_id = IntegerField(_l("Client ID"), validators=[DataRequired(), NumberRange(min=1)])
    product_id = SelectField(_l("Product"), coerce=int)
    price_override = StringField(_l("Price override per period"), validators=[Optional()])
    promo_code = StringField(_l("Promo code"), validators=[Optional(), Length(max=50)])
    skip_email = BooleanField(_l("Do not send the e-mail"))
    generate_invoice = BooleanField(_l("Generate the invoice"), default=True)
    accept_now = BooleanField(_l("Accept at once"))
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class ServiceForm(FlaskForm):
    status = SelectField(_l("Status"), choices=_choices(SERVICE_STATUS_LABELS))
    next_due_date = DateField(_l("Next due date"), validators=[Optional()])
    price_override = StringField(
        _l("Price override (empty: from the catalogue)"), validators=[Optional()]
    )
    username = StringField(_l("Username"), validators=[Optional(), Length(max=100)])
    no_suspend_until = DateField(_l("Do not suspend until"), validators=[Optional()])
    terminate_at_period_end = BooleanField(_l("Terminate at the end of the paid period"))
    termination_reason = StringField(_l("Reason for termination"), validators=[Optional()])
    admin_notes = TextAreaField(_l("Admin notes"), validators=[Optional()])


class MoveServiceForm(FlaskForm):
    client_id = IntegerField(
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
        try:
            value = int(raw)
        except ValueError:
            errors.append(_("%(option)s: enter a whole number.", option=option.name))
            continue
        if abs(value) > MAX_ID:
            errors.append(_("%(option)s: the number is too large.", option=option.name))
            continue
        values[option.id] = value
    return values, errors


def read_addons(data: Any) -> tuple[int, ...]:
    getter = getattr(data, "getlist", None)
    raw = getter("addon") if getter else []
    return tuple(sorted({number for value in raw if (number := db_id(value)) is not None}))
