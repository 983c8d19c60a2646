"""Staff forms for the client card, and what every area's forms share: the password fields of
sign-up and reset, the two-factor code fields. Choices that come from the database are set by
the view."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal import billing
from portal.accounts.models import ClientStatus
from portal.accounts.models.client import Rating
from portal.accounts.models.contact import ContactRole
from portal.accounts.models.custom_field import FieldType
from portal.accounts.requisites import LegalType
from portal.catalog.models import DiscountKind
from portal.messaging.sources import MailKind
from portal.web import labels
from portal.web.formatting import plain_number
from portal.web.forms import (
    BoundedIntegerField,
    MoneyField,
    MultiCheckboxField,
    enum_choices,
    optional_id,
    text_length,
)

STATUS_LABELS = {
    ClientStatus.ACTIVE: _l("Active"),
    ClientStatus.INACTIVE: _l("Inactive"),
    ClientStatus.CLOSED: _l("Closed"),
}
RATING_LABELS = {
    Rating.NORMAL: _l("Normal"),
    Rating.GOOD: _l("Good-faith payer"),
    Rating.CONFLICTING: _l("Conflicting"),
}
LEGAL_TYPE_LABELS = {
    LegalType.INDIVIDUAL: _l("Individual"),
    LegalType.SOLE_PROPRIETOR: _l("Sole proprietor"),
    LegalType.LEGAL_ENTITY: _l("Legal entity"),
}
ROLE_LABELS = labels.register(
    "contact_role",
    {
        ContactRole.GENERAL: _l("General"),
        ContactRole.BILLING: _l("Billing"),
        ContactRole.TECHNICAL: _l("Technical"),
    },
)
MAIL_LABELS = labels.register(
    "mail_kind",
    {
        MailKind.GENERAL: _l("General messages"),
        MailKind.INVOICES: _l("Invoices and payments"),
        MailKind.SUPPORT: _l("Support tickets"),
        MailKind.SERVICES: _l("Service notices"),
    },
)
FIELD_TYPE_LABELS = {
    FieldType.TEXT: _l("Text"),
    FieldType.NUMBER: _l("Number"),
    FieldType.DATE: _l("Date"),
    FieldType.CHECKBOX: _l("Checkbox"),
    FieldType.DROPDOWN: _l("Dropdown"),
}


#: The shortest password anyone may set (clients and staff).
MIN_PASSWORD = 10


class NewPasswordMixin:
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD,
                max=200,
                message=_l("The password must be at least %(min)d characters long."),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class AppCodeForm(FlaskForm):
    """The code that confirms an authenticator app was set up: six digits, nothing else."""

    code = StringField(
        _l("Code from the authenticator app"),
        validators=[
            DataRequired(),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Enter the 6 digits the app shows.")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


def _code_field(*, autofocus: bool) -> StringField:
    return StringField(
        _l("Code from the authenticator app or a recovery code"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "autofocus": autofocus, "spellcheck": "false"},
    )


class SecondFactorForm(FlaskForm):
    """Six digits from the authenticator app, or a recovery code: the second step of signing
    in, and what changing the two-factor settings asks for."""

    code = _code_field(autofocus=True)


class PasswordSecondFactorForm(FlaskForm):
    """The password and a second factor: what a client gives to turn two-factor off or to get
    new recovery codes (a session left open is not enough)."""

    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    code = _code_field(autofocus=False)


class ClientForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=100)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=255)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=20)])
    country = StringField(_l("Country (ISO code)"), default="RU", validators=[Length(min=2, max=2)])
    language = SelectField(_l("Language"), choices=[("ru", "Русский"), ("en", "English")])
    currency = SelectField(_l("Currency"), default="RUB", choices=[])
    status = SelectField(_l("Status"), choices=enum_choices(STATUS_LABELS), default="active")
    group_id = SelectField(_l("Client group"), coerce=optional_id, choices=[])
    manager_id = SelectField(_l("Personal manager"), coerce=optional_id, choices=[])
    sales_manager_id = SelectField(_l("Sales manager"), coerce=optional_id, choices=[])
    referred_by_id = BoundedIntegerField(
        _l("Referred by (client ID)"), validators=[Optional(), NumberRange(min=1)]
    )
    rating = SelectField(_l("Rating"), choices=enum_choices(RATING_LABELS), default="normal")
    label = StringField(_l("Label"), validators=[Optional(), Length(max=50)])
    legal_type = SelectField(
        _l("Legal type"), choices=enum_choices(LEGAL_TYPE_LABELS), default="individual"
    )
    inn = StringField(_l("INN"), validators=[Optional(), Length(max=14)])
    kpp = StringField(_l("KPP"), validators=[Optional(), Length(max=11)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=255)])
    bank_bic = StringField(_l("BIC"), validators=[Optional(), Length(max=11)])
    bank_account = StringField(_l("Settlement account"), validators=[Optional(), Length(max=24)])
    bank_corr_account = StringField(
        _l("Correspondent account"), validators=[Optional(), Length(max=24)]
    )
    no_late_fees = BooleanField(_l("No late fees"))
    no_overdue_notices = BooleanField(_l("No overdue notices"))
    tax_exempt = BooleanField(_l("Tax exempt"))
    separate_invoices = BooleanField(_l("Separate invoices per service"))
    never_suspend = BooleanField(_l("Never suspend automatically"))
    no_suspend_until = DateField(_l("Do not suspend until"), validators=[Optional()])
    credit_limit = MoneyField(
        _l("Credit limit (empty: none)"), validators=[Optional(), NumberRange(min=0)]
    )
    payment_terms_days = BoundedIntegerField(
        _l("Days to pay (empty: the setting)"), validators=[Optional(), NumberRange(0, 365)]
    )
    block_orders_after_days = BoundedIntegerField(
        _l("Block orders when an invoice is overdue more than N days (empty: never)"),
        validators=[Optional(), NumberRange(0, 3650)],
    )
    billing_contact_id = SelectField(_l("Billing contact"), coerce=optional_id, choices=[])
    admin_notes = TextAreaField(_l("Admin notes"), validators=[Optional(), Length(max=10000)])

    def validate_credit_limit(self, field: DecimalField) -> None:
        if field.data is not None:
            try:
                billing.check_minor_units(field.data, self.currency.data or "RUB")
            except billing.BillingError:
                raise ValidationError(
                    _l("Enter the credit limit in whole kopecks (cents), e.g. 50000.00.")
                ) from None

    def values(self) -> dict[str, object]:
        data = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        for key in (
            "last_name",
            "company",
            "phone",
            "address",
            "city",
            "region",
            "postcode",
            "label",
            "inn",
            "kpp",
            "bank_name",
            "bank_bic",
            "bank_account",
            "bank_corr_account",
            "admin_notes",
        ):
            data[key] = (data.get(key) or "").strip()
        data["country"] = (data["country"] or "RU").upper()
        data["currency"] = (data["currency"] or "RUB").upper()
        return data


class NewClientForm(ClientForm):
    password = StringField(
        _l("Password (empty: the client sets one by the reset link)"),
        validators=[Optional(), Length(min=10, max=200)],
    )
    send_welcome = BooleanField(_l("Send the welcome e-mail"), default=True)
    create_anyway = BooleanField(_l("Create anyway"))


class ContactForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=100)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    roles = MultiCheckboxField(_l("Roles"), choices=enum_choices(ROLE_LABELS))
    receives = MultiCheckboxField(_l("Receives"), choices=enum_choices(MAIL_LABELS))


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=10000)])
    important = BooleanField(_l("Important (pinned to the summary)"))


class TodoForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=255)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    assignee_id = SelectField(_l("Assignee"), coerce=optional_id, choices=[])


class MergeForm(FlaskForm):
    source_id = BoundedIntegerField(
        _l("ID of the client to merge into this one"), validators=[DataRequired(), NumberRange(1)]
    )
    confirm = BooleanField(_l("I understand that the other client will be removed"))


class CustomFieldForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    type = SelectField(_l("Type"), choices=enum_choices(FIELD_TYPE_LABELS))
    required = BooleanField(_l("Required"))
    client_visible = BooleanField(_l("Shown in the client area"))
    options = TextAreaField(
        _l("Options (one per line, for dropdowns)"), validators=[text_length(20_000)]
    )
    sort_order = BoundedIntegerField(_l("Sort order"), default=0, validators=[Optional()])


class ClientAreaForm(FlaskForm):
    editable = MultiCheckboxField(_l("Profile fields clients may change themselves"))


class ClientGroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    colour = StringField(_l("Colour"), default="#6c757d", validators=[Length(min=7, max=7)])


DISCOUNT_KIND_LABELS = {
    DiscountKind.PERCENT: _l("Percent off"),
    DiscountKind.COEFFICIENT: _l("Coefficient (0.85 = 15 percent off)"),
}


class ClientDiscountForm(FlaskForm):
    """A personal discount; the service checks the figures and the dates (its messages)."""

    product_id = SelectField(_l("Product"), coerce=optional_id, choices=[])
    kind = SelectField(_l("Discount as"), choices=enum_choices(DISCOUNT_KIND_LABELS))
    value = StringField(_l("Discount"), validators=[Length(max=20)])
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid to (inclusive)"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=255)])

    def values(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id.data,
            "kind": self.kind.data,
            "value": self.value.data,
            "valid_from": self.valid_from.data,
            "valid_to": self.valid_to.data,
            "note": self.note.data,
        }


class ClientTaxRuleForm(FlaskForm):
    """A client tax rule; its dates are named apart from the discount's (both on one page)."""

    percent = StringField(_l("Tax rate, %"), validators=[Length(max=20)])
    tax_from = DateField(_l("Valid from"), validators=[Optional()])
    tax_to = DateField(_l("Valid to (inclusive)"), validators=[Optional()])
    product_types = MultiCheckboxField(_l("Product types (none: all)"), choices=[])
    name = StringField(_l("Name on documents"), validators=[Optional(), Length(max=100)])

    #: The service's field names for this form's.
    FIELDS: ClassVar[dict[str, str]] = {"valid_from": "tax_from", "valid_to": "tax_to"}

    def values(self) -> dict[str, Any]:
        return {
            "percent": self.percent.data,
            "valid_from": self.tax_from.data,
            "valid_to": self.tax_to.data,
            "product_types": self.product_types.data or [],
            "name": self.name.data,
        }

    @classmethod
    def data_of(cls, rule: Any) -> dict[str, Any]:
        """What the edit form starts with."""
        return {
            "percent": plain_number(rule.percent),
            "tax_from": rule.valid_from,
            "tax_to": rule.valid_to,
            "product_types": list(rule.product_types or ()),
            "name": rule.name,
        }
