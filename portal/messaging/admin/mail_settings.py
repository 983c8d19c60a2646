"""Settings → Outgoing mail: how the outbox retries mail the server did not take, and when it
gives up (``portal.messaging.mail_settings``); the page shows the resulting schedule."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.validators import InputRequired

from portal.accounts.models.permissions import Permission
from portal.core.extensions import db
from portal.messaging import mail_settings
from portal.messaging.templates import public_base_url
from portal.web.forms import BoundedIntegerField
from portal.web.identity import Area
from portal.web.permissions import requires

admin_mail_settings = Blueprint("admin_mail_settings", __name__, url_prefix="/admin/settings/mail")
admin_mail_settings.portal_area = Area.ADMIN  # type: ignore[attr-defined]


class RetryForm(FlaskForm):
    first_delay_minutes = BoundedIntegerField(
        _l("First retry after, minutes"),
        validators=[InputRequired(_l("Enter a whole number of minutes."))],
    )
    max_delay_minutes = BoundedIntegerField(
        _l("Longest wait between retries, minutes"),
        validators=[InputRequired(_l("Enter a whole number of minutes."))],
    )
    give_up_hours = BoundedIntegerField(
        _l("Give up after, hours from the first failed attempt"),
        validators=[InputRequired(_l("Enter a whole number of hours."))],
    )


def _duration(offset: timedelta) -> str:
    """ "8 h 31 min" (retry times are whole minutes)."""
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    if not hours:
        return _("%(minutes)d min", minutes=minutes)
    return _("%(hours)d h %(minutes)02d min", hours=hours, minutes=minutes)


@admin_mail_settings.route("", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def index() -> Response | str:
    policy = mail_settings.retry_policy()
    form = RetryForm(data=policy.to_setting())
    if form.validate_on_submit():
        try:
            mail_settings.save(form.data)
        except mail_settings.MailSettingsError as exc:
            db.session.rollback()
            field = getattr(form, exc.field)
            field.errors = [*field.errors, str(exc)]
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin_mail_settings.index"))
    schedule = [_duration(offset) for offset in policy.retries()]
    return render_template(
        "admin/outbox/settings.html",
        form=form,
        schedule=schedule,
        base_url=(current_app.config["PORTAL"].get("base_url") or "").strip(),
        guessed_base_url=public_base_url(),
    )
