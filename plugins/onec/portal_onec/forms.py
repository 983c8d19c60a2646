"""The forms of the client area and the staff tab (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    inn = StringField(_l("INN"), validators=[DataRequired(), Length(max=20)])
    kpp = StringField(
        _l("KPP"),
        validators=[Optional(), Length(max=20)],
        description=_l("Empty for a sole proprietor (12-digit INN)."),
    )
    primary = BooleanField(_l("Primary organisation"))


class BaseForm(FlaskForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int, choices=[])
    name = StringField(_l("Name of the base"), validators=[DataRequired(), Length(max=255)])
    configuration = SelectField(_l("Configuration"), choices=[])
    service_id = SelectField(_l("Service"), coerce=int, choices=[])

    def fill(self, organisations: Any, configurations: Any, services: Any) -> None:
        self.organisation_id.choices = [(o.id, o.name) for o in organisations]
        self.configuration.choices = [(c, c) for c in configurations]
        self.service_id.choices = [(s.id, f"#{s.id} {s.product.name}") for s in services]


class UserForm(FlaskForm):
    login = StringField(_l("Login"), validators=[DataRequired(), Length(max=100)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=255)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
