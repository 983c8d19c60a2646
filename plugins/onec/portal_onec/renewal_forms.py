"""The forms of the renewal queue and of the inactive list: an outcome, a manager."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, TextAreaField, ValidationError
from wtforms.validators import Length, Optional

from portal.plugin_api import Staff, session
from portal_onec.outcomes import LABELS, Outcome


class OutcomeForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=[])
    comment = TextAreaField(
        _l("Comment"),
        validators=[Length(max=4000)],
        description=_l("Required for a refusal: why the client does not renew."),
    )
    next_contact = DateField(_l("Next contact"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcome.choices = [(o.value, LABELS[o]) for o in Outcome]

    def validate_comment(self, field: Any) -> None:
        try:
            refusal = Outcome(self.outcome.data).is_refusal
        except ValueError:
            return
        if refusal and not (field.data or "").strip():
            raise ValidationError(
                _l("A refusal needs a comment: write why the client does not renew.")
            )


class ManagerForm(FlaskForm):
    manager = SelectField(_l("Manager"), choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.manager.choices = [("", _l("— nobody —")), *manager_choices()]


def manager_choices() -> list[tuple[str, str]]:
    """Active staff members, by name, as (id, name) choices."""
    staff = session().scalars(
        select(Staff).where(Staff.is_active.is_(True)).order_by(Staff.first_name, Staff.last_name)
    )
    return [(str(member.id), member.full_name) for member in staff]
