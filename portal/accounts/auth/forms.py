"""Sign-in, registration and password forms (CSRF comes with FlaskForm)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from portal.accounts.forms import NewPasswordMixin


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class RegisterForm(NewPasswordMixin, FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=100)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=255)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


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
