"""Settings → Automation: renewal invoices, payment reminders, late fees, suspension and
termination of overdue services (the values the daily jobs read)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from portal.accounts.models.permissions import Permission
from portal.core.extensions import db
from portal.invoicing import automation_settings
from portal.web.forms import BoundedIntegerField
from portal.web.identity import Area
from portal.web.permissions import requires

admin_automation = Blueprint("admin_automation", __name__, url_prefix="/admin/settings")
admin_automation.portal_area = Area.ADMIN  # type: ignore[attr-defined]

#: The longest period any of the day counts may span (10 years).
MAX_DAYS = 3650


def _days(label: str, maximum: int = MAX_DAYS) -> IntegerField:
    return BoundedIntegerField(label, validators=[InputRequired(), NumberRange(0, maximum)])


class AutomationForm(FlaskForm):
    invoice_days_before_due = _days(_l("Create renewal invoices this many days before due"), 365)
    renewal_invoices_as_drafts = BooleanField(
        _l("Renewal invoices as drafts (staff check and issue them)")
    )
    reminder_days_before_due = _days(_l("Reminder this many days before due (0: none)"), 365)
    reminder_on_due = BooleanField(_l("Reminder on the due date"))
    first_overdue_days = _days(_l("First overdue notice, days after due (0: none)"))
    second_overdue_days = _days(_l("Second overdue notice, days after due (0: none)"))
    third_overdue_days = _days(_l("Third overdue notice, days after due (0: none)"))
    late_fee_kind = SelectField(
        _l("Late fee"),
        choices=[
            ("none", _l("No late fees")),
            ("fixed", _l("Fixed amount")),
            ("percent", _l("Percent of the unpaid balance")),
        ],
    )
    late_fee_amount = StringField(_l("Amount or percent"), validators=[Length(max=20)])
    late_fee_after_days = _days(_l("Charged this many days after due"))
    late_fee_repeat_days = _days(_l("Repeated every N days (0: once)"))
    late_fee_cap = StringField(
        _l("At most, in total per invoice (empty: no limit)"), validators=[Length(max=20)]
    )
    suspend_after_days = _days(_l("Suspend services overdue this many days (0: never)"))
    suspension_warning_days = _days(_l("Warn this many days before suspension (0: no warning)"))
    terminate_after_days = _days(_l("Terminate services overdue this many days (0: never)"))


@admin_automation.route("/automation", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def automation() -> Response | str:
    form = AutomationForm(data=automation_settings.current())
    if form.validate_on_submit():
        try:
            automation_settings.save(form.data)
        except automation_settings.AutomationSettingsError as exc:
            db.session.rollback()
            field = getattr(form, exc.field)
            field.errors = [*field.errors, str(exc)]
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin_automation.automation"))
    return render_template("admin/settings_automation.html", form=form)
