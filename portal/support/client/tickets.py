"""Support in the client area: the client's tickets, a new ticket, the conversation, reply,
close and rate; and the feedback page linked from the closure e-mail.

Every ticket is looked up by its random reference *and* the signed-in client, so another
client's ticket, or an attachment of one, is a 404 like a ticket that does not exist; internal
notes and their attachments, and staff-only tickets (internal requests, plugins' provisioning
tasks), are never selected here at all.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.accounts.models.department import Department
from portal.core.extensions import db
from portal.orders.models.service import SERVICE_STATUS_LABELS
from portal.support import attachments, tickets
from portal.support.forms import (
    PRIORITY_LABELS,
    STATUS_BADGES,
    STATUS_LABELS,
    uploads_in_request,
)
from portal.support.models.ticket import (
    MessageKind,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketPriority,
    TicketVisibility,
)
from portal.support.notifications import ticket_from_feedback_token
from portal.web.forms import optional_id, text_length
from portal.web.identity import Area

client_tickets = Blueprint("client_tickets", __name__, url_prefix="/tickets")
client_tickets.portal_area = Area.CLIENT  # type: ignore[attr-defined]

#: The feedback link in the closure e-mail works without signing in (guests have no account).
ticket_feedback = Blueprint("ticket_feedback", __name__, url_prefix="/support/feedback")
ticket_feedback.portal_area = Area.CLIENT  # type: ignore[attr-defined]
ticket_feedback.portal_public = True  # type: ignore[attr-defined]

#: Urgent is for staff to set; a client chooses up to "high".
CLIENT_PRIORITIES = (TicketPriority.LOW, TicketPriority.MEDIUM, TicketPriority.HIGH)
SCORES = [(str(n), str(n)) for n in range(5, 0, -1)]


class NewTicketForm(FlaskForm):
    department_id = SelectField(_l("Department"), coerce=int)
    service_id = SelectField(_l("Related service"), coerce=optional_id)
    priority = SelectField(
        _l("Priority"),
        choices=[(p.value, PRIORITY_LABELS[p]) for p in CLIENT_PRIORITIES],
        default="medium",
    )
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=255)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), text_length()])


class ClientReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(), text_length()])


class RatingForm(FlaskForm):
    score = SelectField(_l("Your rating"), choices=SCORES, validators=[DataRequired()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])


class GuestRatingForm(RatingForm):
    pass


def _own(reference: str) -> Ticket:
    ticket = db.session.scalar(
        select(Ticket).where(
            Ticket.reference == reference.upper(),
            Ticket.client_id == current_user.id,
            Ticket.visibility == TicketVisibility.CLIENT,
        )
    )
    if ticket is None:
        abort(404)
    return ticket


@client_tickets.app_context_processor
def _labels() -> dict[str, object]:
    return {
        "ticket_status_labels": STATUS_LABELS,
        "ticket_status_badges": STATUS_BADGES,
        "ticket_priority_labels": PRIORITY_LABELS,
    }


@client_tickets.route("")
def index() -> str:
    rows = db.session.scalars(
        select(Ticket)
        .where(
            Ticket.client_id == current_user.id,
            Ticket.visibility == TicketVisibility.CLIENT,
            Ticket.merged_into_id.is_(None),
        )
        .options(selectinload(Ticket.department))
        .order_by(Ticket.last_reply_at.desc())
    ).all()
    return render_template("client/tickets/list.html", tickets=rows)


@client_tickets.route("/new", methods=["GET", "POST"])
def create() -> Response | str:
    form = NewTicketForm()
    departments = db.session.scalars(
        select(Department).where(Department.hidden.is_(False)).order_by(Department.name)
    ).all()
    form.department_id.choices = [(d.id, d.name) for d in departments]
    form.service_id.choices = [(None, "—"), *tickets.service_choices(current_user.id)]
    if not departments:
        flash(_("Support is not available yet. Please write to us by e-mail."), "warning")
    elif form.validate_on_submit():
        try:
            ticket = tickets.open_ticket(
                subject=form.subject.data,
                body=form.body.data,
                department_id=form.department_id.data,
                client=current_user,
                priority=form.priority.data,
                service_id=form.service_id.data,
                uploads=uploads_in_request(),
            )
        except tickets.TicketError as exc:
            flash(str(exc), "danger")
        else:
            flash(
                _("Ticket #%(ref)s opened. We will answer soon.", ref=ticket.reference), "success"
            )
            return redirect(url_for("client_tickets.view", reference=ticket.reference))
    return render_template("client/tickets/new.html", form=form)


@client_tickets.route("/<reference>")
def view(reference: str) -> str:
    ticket = _own(reference)
    messages = db.session.scalars(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id, TicketMessage.kind != MessageKind.NOTE)
        .options(selectinload(TicketMessage.attachments))
        .order_by(TicketMessage.id)
    ).all()
    rating = RatingForm(score=str(ticket.feedback_score or 5), comment=ticket.feedback_comment)
    return render_template(
        "client/tickets/view.html",
        ticket=ticket,
        messages=messages,
        service=tickets.related_service(ticket),
        service_labels=SERVICE_STATUS_LABELS,
        form=ClientReplyForm(),
        rating_form=rating,
    )


@client_tickets.route("/<reference>/reply", methods=["POST"])
def reply(reference: str) -> Response:
    ticket = _own(reference)
    form = ClientReplyForm()
    if form.validate_on_submit():
        try:
            tickets.client_reply(
                ticket,
                body=form.body.data,
                author_name=current_user.person_name,
                author_email=current_user.email,
                uploads=uploads_in_request(),
            )
        except tickets.TicketError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Your reply has been added."), "success")
    else:
        flash(_("Write a message."), "danger")
    return redirect(url_for("client_tickets.view", reference=ticket.reference))


@client_tickets.route("/<reference>/close", methods=["POST"])
def close(reference: str) -> Response:
    ticket = _own(reference)
    if FlaskForm().validate_on_submit():
        tickets.close_by_client(ticket)
        flash(_("The ticket is closed. Please rate our answer."), "success")
    return redirect(url_for("client_tickets.view", reference=ticket.reference))


@client_tickets.route("/<reference>/rate", methods=["POST"])
def rate(reference: str) -> Response:
    ticket = _own(reference)
    form = RatingForm()
    if form.validate_on_submit():
        tickets.rate(ticket, int(form.score.data), form.comment.data or "")
        flash(_("Thank you for your rating!"), "success")
    return redirect(url_for("client_tickets.view", reference=ticket.reference))


@client_tickets.route("/<reference>/attachments/<int:attachment_id>")
def attachment(reference: str, attachment_id: int) -> Response:
    ticket = _own(reference)
    row = db.session.scalar(
        select(TicketAttachment)
        .join(TicketMessage, TicketMessage.id == TicketAttachment.message_id)
        .where(
            TicketAttachment.id == attachment_id,
            TicketAttachment.ticket_id == ticket.id,
            TicketMessage.kind != MessageKind.NOTE,
        )
    )
    if row is None:
        abort(404)
    return attachments.send_attachment(row)


@ticket_feedback.route("/<token>", methods=["GET", "POST"], endpoint="rate")
def rate_by_link(token: str) -> Response | str:
    ticket = ticket_from_feedback_token(token)
    if ticket is None:
        abort(404)
    form = GuestRatingForm()
    if form.validate_on_submit():
        tickets.rate(ticket, int(form.score.data), form.comment.data or "")
        return render_template("client/tickets/feedback.html", ticket=ticket, form=None)
    if not form.is_submitted():
        form.score.data = str(ticket.feedback_score or 5)
    return render_template("client/tickets/feedback.html", ticket=ticket, form=form)
