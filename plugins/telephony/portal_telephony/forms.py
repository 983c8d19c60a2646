"""Forms of the telephony pages (CSRF on each: Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from portal_telephony.categories import CODES, LABELS


def category_choices(empty: str | None = None) -> list[tuple[str, str]]:
    first = [("", empty)] if empty is not None else []
    return [*first, *((code, str(LABELS[code])) for code in CODES)]


class SearchForm(FlaskForm):
    """The free-number search (GET: no CSRF token needed for reading)."""

    class Meta:
        csrf = False

    digits = StringField(_l("Digits"), validators=[Optional(), Length(max=15)])
    category = SelectField(_l("Category"), choices=[], validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = category_choices(str(_l("Any category")))


class PoolFilterForm(SearchForm):
    state = SelectField(_l("State"), choices=[], validators=[Optional()])


class ActionForm(FlaskForm):
    """A button that changes something (reserve, confirm, release): only the CSRF token."""


class AssignForm(FlaskForm):
    service_id = SelectField(_l("PBX"), coerce=int, choices=[])
    extension = StringField(
        _l("Extension"),
        validators=[Optional(), Regexp(r"^\d{2,6}$", message=_l("2 to 6 digits."))],
    )


class ImportForm(FlaskForm):
    numbers = TextAreaField(
        _l("Numbers"),
        validators=[DataRequired(), Length(max=200_000)],
        description=_l(
            "One number or range per line: 74957001000..74957001999, or a CSV's first two columns."
        ),
    )


class StaffAssignForm(FlaskForm):
    service_id = StringField(_l("PBX service #"), validators=[InputRequired(), Regexp(r"^\d+$")])
    extension = StringField(_l("Extension"), validators=[Optional(), Regexp(r"^\d{2,6}$")])


class FeesForm(FlaskForm):
    category = SelectField(_l("Category"), choices=[])
    connection_fee = DecimalField(
        _l("Connection fee"), places=2, validators=[InputRequired(), NumberRange(min=0)]
    )
    monthly_fee = DecimalField(
        _l("Monthly fee"), places=2, validators=[InputRequired(), NumberRange(min=0)]
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = category_choices()
