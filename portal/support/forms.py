"""Forms of the support desk (staff side), the labels both areas show for statuses and
priorities, and the files a ticket form posts. Choices that come from the database are set by
the views."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.support import attachments
from portal.support.models.ticket import PRIORITY_LABELS, STATUS_LABELS, TicketStatus
from portal.web.forms import (
    BoundedIntegerField,
    MultiCheckboxField,
    enum_choices,
    optional_id,
    text_length,
)

STATUS_BADGES = {
    TicketStatus.OPEN: "text-bg-danger",
    TicketStatus.ANSWERED: "text-bg-success",
    TicketStatus.CUSTOMER_REPLY: "text-bg-warning",
    TicketStatus.ON_HOLD: "text-bg-secondary",
    TicketStatus.IN_PROGRESS: "text-bg-info",
    TicketStatus.CLOSED: "text-bg-dark",
}
QUEUE_LABELS = {
    "awaiting": _l("Awaiting reply"),
    "mine": _l("Mine"),
    "department": _l("My departments"),
    "done_by_me": _l("Done by me"),
    "all": _l("All tickets"),
}


class NewTicketForm(FlaskForm):
    client_id = BoundedIntegerField(_l("Client ID"), validators=[DataRequired()])
    department_id = SelectField(_l("Department"), coerce=int)
    priority = SelectField(_l("Priority"), choices=enum_choices(PRIORITY_LABELS), default="medium")
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=255)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), text_length()])
    cc = StringField(_l("CC"), validators=[Optional(), Length(max=1000)])
    internal = BooleanField(
        _l("Internal request (the first message is a note; nothing is sent to the client)")
    )


AFTER_REPLY = (
    TicketStatus.ANSWERED,
    TicketStatus.ON_HOLD,
    TicketStatus.IN_PROGRESS,
    TicketStatus.CLOSED,
)


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Reply"), validators=[DataRequired(), text_length()])
    status = SelectField(
        _l("Status after the reply"),
        choices=[(status.value, STATUS_LABELS[status]) for status in AFTER_REPLY],
        default="answered",
    )


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note"), validators=[DataRequired(), text_length()])


class TicketUpdateForm(FlaskForm):
    department_id = SelectField(_l("Department"), coerce=optional_id)
    priority = SelectField(_l("Priority"), choices=enum_choices(PRIORITY_LABELS))
    status = SelectField(_l("Status"), choices=enum_choices(STATUS_LABELS))
    assigned_staff_id = SelectField(_l("Assigned to"), coerce=optional_id)
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=500)])
    cc = StringField(_l("CC"), validators=[Optional(), Length(max=1000)])
    notify_client = BooleanField(_l("Tell the client about a status change"), default=True)


class MergeForm(FlaskForm):
    references = StringField(
        _l("Tickets to merge into this one"), validators=[DataRequired(), Length(max=500)]
    )


class CannedReplyForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    department_id = SelectField(_l("Department"), coerce=optional_id)
    body = TextAreaField(_l("Text"), validators=[DataRequired(), text_length()])


class DepartmentSupportForm(FlaskForm):
    accept_guests = BooleanField(_l("Open tickets for unknown senders (guests)"))
    send_acknowledgement = BooleanField(_l("Acknowledge new tickets by e-mail"))
    signature = TextAreaField(
        _l("Signature under staff replies"), validators=[Optional(), text_length(5_000)]
    )


class BusinessHoursForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    timezone = StringField(
        _l("Time zone"), validators=[DataRequired(), Length(max=64)], default="Europe/Moscow"
    )
    weekly = TextAreaField(
        _l("Working hours (one line per days: “1-5 09:00-18:00”, 1 is Monday)"),
        validators=[DataRequired(), text_length(5_000)],
        default="1-5 09:00-18:00",
    )
    holidays = TextAreaField(
        _l("Holidays (dates YYYY-MM-DD)"), validators=[Optional(), text_length(20_000)]
    )


class SlaPolicyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    department_id = SelectField(_l("Department"), coerce=optional_id)
    client_group_id = SelectField(_l("Client group"), coerce=optional_id)
    first_response_minutes = BoundedIntegerField(
        _l("First response within, minutes"),
        validators=[DataRequired(), NumberRange(min=1)],
        default=120,
    )
    resolution_minutes = BoundedIntegerField(
        _l("Resolution within, minutes"),
        validators=[DataRequired(), NumberRange(min=1)],
        default=1440,
    )
    business_hours_id = SelectField(_l("Business hours"), coerce=optional_id)
    priority = SelectField(_l("Priority of new tickets"))


class EscalationRuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    active = BooleanField(_l("Active"), default=True)
    department_id = SelectField(_l("In department"), coerce=optional_id)
    statuses = MultiCheckboxField(
        _l("In status"),
        choices=enum_choices({k: v for k, v in STATUS_LABELS.items() if k != TicketStatus.CLOSED}),
    )
    priorities = MultiCheckboxField(_l("At priority"), choices=enum_choices(PRIORITY_LABELS))
    minutes = BoundedIntegerField(
        _l("After minutes without a reply"), validators=[DataRequired(), NumberRange(min=1)]
    )
    set_priority = SelectField(_l("Change priority to"))
    set_department_id = SelectField(_l("Move to department"), coerce=optional_id)
    set_staff_id = SelectField(_l("Assign to"), coerce=optional_id)
    notify_assignee = BooleanField(_l("Notify the assigned staff member"))
    notify_emails = StringField(_l("Notify addresses"), validators=[Optional(), Length(max=1000)])


def uploads_in_request() -> list[attachments.Upload]:
    """The files posted in the form's ``attachments`` field (empty inputs skipped)."""
    return [
        attachments.Upload(item.filename or "", item.read())
        for item in request.files.getlist("attachments")
        if item and item.filename
    ]
