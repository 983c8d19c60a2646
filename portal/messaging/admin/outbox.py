"""Utilities → E-mail queue: the outbox searched by status, date, template and recipient, with
"send again" for one failed message, the ticked ones or every failed one that matches."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional

from portal.accounts.models.permissions import Permission
from portal.messaging.models.outbox import OutboundMessage, OutboundStatus
from portal.messaging.outbox import (
    NO_TEMPLATE,
    STATUS_LABELS,
    OutboxFilter,
    failed_count,
    outbox_messages,
    retry_failed,
)
from portal.messaging.templates import TEMPLATES
from portal.web.identity import Area
from portal.web.paging import keyset_page
from portal.web.permissions import requires

admin_outbox = Blueprint("admin_outbox", __name__, url_prefix="/admin/outbox")
admin_outbox.portal_area = Area.ADMIN  # type: ignore[attr-defined]

PAGE_SIZE = 50
#: The filter's fields, carried from the list into the retry form.
FILTER_FIELDS = ("status", "since", "until", "template", "to")


class OutboxFilterForm(FlaskForm):
    """The search above the list (GET, so no CSRF token); a bad date is shown on its field."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False)
    since = DateField(_l("Queued from"), validators=[Optional()])
    until = DateField(_l("Queued to"), validators=[Optional()])
    template = SelectField(_l("Kind"), validators=[Optional()], validate_choice=False)
    to = StringField(_l("Recipient"), validators=[Optional(), Length(max=320)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _l("Any status"))] + [
            (status.value, label) for status, label in STATUS_LABELS.items()
        ]
        self.template.choices = [
            ("", _l("Any kind")),
            *sorted(((n, s.label) for n, s in TEMPLATES.items()), key=lambda c: str(c[1])),
            (NO_TEMPLATE, _l("Other mail (ticket replies, notifications)")),
        ]

    def matching(self) -> OutboxFilter:
        status = self.status.data if self.status.data in {s.value for s in OutboundStatus} else ""
        return OutboxFilter(
            status=OutboundStatus(status) if status else None,
            since=self.since.data if not self.since.errors else None,
            until=self.until.data if not self.until.errors else None,
            template=self.template.data or None,
            recipient=self.to.data or "",
        )


class RetryForm(FlaskForm):
    """Send again the ticked messages, or every failed one the filter finds."""

    scope = SelectField(choices=[("selected", "selected"), ("matching", "matching")])
    ids = SelectMultipleField(coerce=int, validate_choice=False)


def _filter_args() -> dict[str, str]:
    """The filter as query arguments, to come back to the same list."""
    return {name: request.values[name] for name in FILTER_FIELDS if request.values.get(name)}


@admin_outbox.route("")
@requires(Permission.SETTINGS_MANAGE)
def index() -> str:
    search = OutboxFilterForm(request.args)
    search.validate()
    matching = search.matching()
    page = keyset_page(outbox_messages(matching), id_column=OutboundMessage.id, per_page=PAGE_SIZE)
    return render_template(
        "admin/outbox/list.html",
        page=page,
        search=search,
        args=_filter_args(),
        failed_matching=failed_count(matching),
        retry_form=RetryForm(),
        status_labels=STATUS_LABELS,
    )


@admin_outbox.route("/retry", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def retry() -> Response:
    form = RetryForm()
    if not form.validate_on_submit():
        abort(400)
    search = OutboxFilterForm(request.form)
    if form.scope.data == "matching":
        if not search.validate():  # never more than the list showed
            flash(_("Correct the search first: nothing was sent again."), "danger")
            return redirect(url_for("admin_outbox.index", **_filter_args()))
        count = retry_failed(matching=search.matching())
    else:
        count = retry_failed(ids=form.ids.data or [])
    if count:
        flash(
            ngettext(
                "%(num)d message will be sent again.",
                "%(num)d messages will be sent again.",
                count,
            ),
            "success",
        )
    else:
        flash(_("No failed message was chosen: nothing will be sent again."), "warning")
    return redirect(url_for("admin_outbox.index", **_filter_args()))
