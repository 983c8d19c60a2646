"""Client-area forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.accounts.forms import NewPasswordMixin


class ProfileForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=100)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=255)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=20)])
    country = StringField(_l("Country (ISO code)"), validators=[Optional(), Length(min=2, max=2)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=255)])
    bank_bic = StringField(_l("BIC"), validators=[Optional(), Length(max=11)])
    bank_account = StringField(_l("Settlement account"), validators=[Optional(), Length(max=24)])


class EmailChangeForm(FlaskForm):
    email = EmailField(_l("New e-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class PasswordChangeForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])


class EnrolForm(FlaskForm):
    """Starting or cancelling two-factor enrolment: a button, only the CSRF token."""
