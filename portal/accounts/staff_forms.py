"""Forms for staff, roles, departments, two-factor authentication and the audit log filter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from portal.accounts.forms import MIN_PASSWORD
from portal.web.forms import BoundedIntegerField

#: Ids are 32-bit integers in the database; PostgreSQL refuses to compare with larger numbers.
MAX_ID = 2**31 - 1

_PASSWORD_LENGTH = Length(
    min=MIN_PASSWORD,
    max=200,
    message=_l("The password must be at least %(min)d characters long."),
)


class StaffForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), coerce=int, validators=[DataRequired()])
    departments = SelectMultipleField(_l("Departments"), coerce=int, validate_choice=True)
    language = SelectField(_l("Language"), choices=[], validate_choice=True)
    blocked = BooleanField(_l("Blocked (cannot sign in)"))
    password = PasswordField(_l("Password"), validators=[Optional(), _PASSWORD_LENGTH])


class NewStaffForm(StaffForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), _PASSWORD_LENGTH])


class RoleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    permissions = SelectMultipleField(_l("Permissions"), choices=[], validate_choice=True)


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(
        _l("E-mail address for tickets"), validators=[Optional(), Email(), Length(max=254)]
    )
    hidden = BooleanField(_l("Hidden from clients"))


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class SecurityForm(FlaskForm):
    require_two_factor = BooleanField(_l("Require two-factor authentication for all staff"))


class AuditFilterForm(FlaskForm):
    """Filters arrive as query parameters of a GET: nothing to protect with CSRF."""

    class Meta:
        csrf = False

    actor = StringField(_l("Who"), validators=[Optional(), Length(max=255)])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=100)])
    entity = StringField(_l("Object"), validators=[Optional(), Length(max=50)])
    entity_id = StringField(_l("Object ID"), validators=[Optional(), Length(max=64)])
    client_id = BoundedIntegerField(
        _l("Client ID"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)]
    )
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
