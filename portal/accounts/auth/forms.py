"""Sign-in, registration and password forms (CSRF comes with FlaskForm)."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.accounts.forms import NewPasswordMixin


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class RegisterForm(NewPasswordMixin, FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=100)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=255)])

    #: The order the page asks in: the e-mail first (the account's login, and what a browser
    #: autofills), then who the client is, the password last. WTForms would otherwise put the
    #: mixin's password fields first, as they were declared first.
    ORDER = ("email", "first_name", "last_name", "company", "password", "confirm")

    def __iter__(self) -> Iterator[Field]:
        named = [self._fields[name] for name in self.ORDER if name in self._fields]
        return iter([*named, *(f for n, f in self._fields.items() if n not in self.ORDER)])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class ConfirmForm(FlaskForm):
    """A button only: the action is in the URL (its CSRF token is the point)."""
