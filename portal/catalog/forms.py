"""Staff forms for the catalogue: product groups, products, configurable options, add-ons,
upgrade paths and promo codes. Choices from the database are set by the view; money is typed as
text and parsed by ``portal.catalog.catalog.parse_money`` so that the billing engine's own checks
(4 decimals, not negative) produce the error messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.catalog.catalog import (
    CYCLE_LABELS,
    DAY_COUNT_LABELS,
    PRODUCT_TYPE_LABELS,
    VISIBILITY_LABELS,
)
from portal.catalog.models import OptionKind
from portal.orders.models import PromoCodeKind
from portal.web.forms import BoundedIntegerField, MultiCheckboxField, enum_choices, text_length

OPTION_KIND_LABELS = {OptionKind.QUANTITY: _l("Quantity"), OptionKind.DROPDOWN: _l("Dropdown")}
PROMO_KIND_LABELS = {PromoCodeKind.PERCENT: _l("Percent"), PromoCodeKind.FIXED: _l("Fixed amount")}


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    sort_order = BoundedIntegerField(_l("Sort order"), default=0, validators=[Optional()])


class ProductForm(FlaskForm):
    group_id = SelectField(_l("Product group"), coerce=int)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    type = SelectField(_l("Type"), choices=enum_choices(PRODUCT_TYPE_LABELS))
    visibility = SelectField(_l("Visibility"), choices=enum_choices(VISIBILITY_LABELS))
    module = StringField(_l("Provisioning module"), validators=[Optional(), Length(max=100)])
    tax_inclusive = BooleanField(_l("Prices include tax"))
    day_count = SelectField(
        _l("Day-count convention"),
        choices=[("", _l("Default from settings")), *enum_choices(DAY_COUNT_LABELS)],
    )
    stock = BoundedIntegerField(_l("Stock (empty: unlimited)"), validators=[Optional()])
    welcome_email = StringField(_l("Welcome e-mail"), validators=[Optional(), Length(max=100)])
    sort_order = BoundedIntegerField(_l("Sort order"), default=0, validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[Optional(), text_length()])
    invoice_days_before_due = BoundedIntegerField(
        _l("Renewal invoice days before due (empty: the setting)"),
        validators=[Optional(), NumberRange(0, 365)],
    )
    suspend_after_days = BoundedIntegerField(
        _l("Suspend when overdue, days (empty: the setting; 0: never)"),
        validators=[Optional(), NumberRange(0, 3650)],
    )
    terminate_after_days = BoundedIntegerField(
        _l("Terminate when overdue, days (empty: the setting; 0: never)"),
        validators=[Optional(), NumberRange(0, 3650)],
    )


class OptionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=enum_choices(OPTION_KIND_LABELS))
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=50)])
    minimum = BoundedIntegerField(_l("Minimum"), default=0, validators=[Optional()])
    maximum = BoundedIntegerField(_l("Maximum (empty: no limit)"), validators=[Optional()])
    step = BoundedIntegerField(_l("Step"), default=1, validators=[Optional()])
    sort_order = BoundedIntegerField(_l("Sort order"), default=0, validators=[Optional()])


class ChoiceForm(FlaskForm):
    name = StringField(_l("Choice"), validators=[DataRequired(), Length(max=200)])
    sort_order = BoundedIntegerField(_l("Sort order"), default=0, validators=[Optional()])


class AddonForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), text_length()])
    product_ids = MultiCheckboxField(_l("Sold with"), coerce=int)
    activate_with_parent = BooleanField(_l("Activate with the service"), default=True)


class UpgradePathsForm(FlaskForm):
    target_ids = MultiCheckboxField(_l("Can be changed to"), coerce=int)


class PromoForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=50)])
    kind = SelectField(_l("Kind"), choices=enum_choices(PROMO_KIND_LABELS))
    value = StringField(
        _l("Value (percent or amount)"), validators=[DataRequired(), Length(max=30)]
    )
    currency = StringField(_l("Currency of a fixed amount"), validators=[Optional(), Length(max=3)])
    description = StringField(_l("Text on the invoice"), validators=[Optional(), Length(max=255)])
    product_ids = MultiCheckboxField(_l("Products (none: all)"), coerce=int)
    cycles = MultiCheckboxField(
        _l("Billing cycles (none: all)"), choices=enum_choices(CYCLE_LABELS)
    )
    recurring = BooleanField(_l("Recurring (every renewal, not only the first invoice)"))
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid to (inclusive)"), validators=[Optional()])
    max_uses = BoundedIntegerField(_l("Maximum uses"), validators=[Optional()])
    once_per_client = BooleanField(_l("Once per client"))
    active = BooleanField(_l("Active"), default=True)
