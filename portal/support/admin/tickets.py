"""The support desk in the admin area: queues, the ticket page, canned replies, reports."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from portal.accounts.models.audit import AuditEntry
from portal.accounts.models.client import Client
from portal.accounts.models.department import Department
from portal.accounts.models.note import Note
from portal.accounts.models.permissions import Permission
from portal.accounts.models.staff import Staff
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.messaging.outbox import STATUS_LABELS as OUTBOX_STATUS_LABELS
from portal.messaging.templates import TEMPLATES
from portal.orders.models.service import SERVICE_STATUS_LABELS
from portal.platform import search
from portal.support import attachments, canned_replies, sla, tickets
from portal.support.forms import (
    PRIORITY_LABELS,
    QUEUE_LABELS,
    STATUS_BADGES,
    STATUS_LABELS,
    CannedReplyForm,
    MergeForm,
    NewTicketForm,
    NoteForm,
    ReplyForm,
    TicketUpdateForm,
    uploads_in_request,
)
from portal.support.models.support import CannedReply
from portal.support.models.ticket import Ticket, TicketAssignment, TicketAttachment, TicketMessage
from portal.web.csv_export import csv_response
from portal.web.formatting import labels_once
from portal.web.identity import Area
from portal.web.paging import COUNT_CAP, capped_count, keyset_page, nulls_last
from portal.web.permissions import requires
from portal.web.query_args import db_id, id_arg

admin_support = Blueprint("admin_support", __name__, url_prefix="/admin/support")
admin_support.portal_area = Area.ADMIN  # type: ignore[attr-defined]

PAGE_SIZE = 50


@admin_support.app_context_processor
def _support_labels() -> dict[str, object]:
    return {
        "ticket_status_labels": STATUS_LABELS,
        "ticket_status_badges": STATUS_BADGES,
        "ticket_priority_labels": PRIORITY_LABELS,
        "outbox_labels": OUTBOX_STATUS_LABELS,
        "mail_template_labels": {name: spec.label for name, spec in TEMPLATES.items()},
    }


def _me() -> Staff:
    staff = current_user._get_current_object()
    assert isinstance(staff, Staff)
    return staff


def _ticket_or_404(ticket_id: int) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        abort(404)
    return ticket


def _departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.name)))


# --- queues -----------------------------------------------------------------------------------


@admin_support.route("")
@requires(Permission.SUPPORT_VIEW)
def index() -> Response | str:
    queue = request.args.get("queue", "awaiting")
    if queue not in tickets.QUEUES:
        queue = "awaiting"
    me = _me()
    search.from_args(request.args)  # shows a refused search text; filter_query finds nothing
    unfiltered = tickets.queue_query(queue, me)
    stmt = tickets.filter_query(unfiltered, request.args)
    filtered = stmt is not unfiltered
    awaiting = queue == "awaiting"
    # the awaiting queue: response due first, none last, read in this order from the partial
    # index ix_ticket_awaiting_due_order (docs/performance.md); the others by last reply
    due = nulls_last(Ticket.response_due_at)
    # Joined, not batched: the three are one row each per ticket, and each batch load was a
    # query of its own to build and run (docs/performance.md, "Per-row work"). A name is all a
    # row shows of the assignee: not their departments (Staff loads them eagerly).
    stmt = stmt.options(
        joinedload(Ticket.client),
        joinedload(Ticket.department),
        joinedload(Ticket.assigned_staff).lazyload(Staff.departments),
    )
    if request.args.get("format") == "csv":
        return csv_response(
            "tickets.csv",
            [
                _("ID"),
                _("Reference"),
                _("Subject"),
                _("Client"),
                _("E-mail"),
                _("Department"),
                _("Status"),
                _("Priority"),
                _("Assigned to"),
                _("Opened"),
                _("Last reply"),
            ],
            (
                (
                    t.id,
                    t.reference,
                    t.subject,
                    t.requester_name,
                    t.requester_email,
                    t.department.name if t.department else "",
                    STATUS_LABELS[t.status],
                    PRIORITY_LABELS[t.priority],
                    t.assigned_staff.full_name if t.assigned_staff else "",
                    t.created_at.isoformat(timespec="minutes"),
                    t.last_reply_at.isoformat(timespec="minutes"),
                )
                for t in db.session.scalars(
                    stmt.order_by(due, Ticket.id)
                    if awaiting
                    else stmt.order_by(Ticket.last_reply_at.desc(), Ticket.id.desc())
                )
            ),
        )
    page = (
        keyset_page(stmt, sort=due, id_column=Ticket.id, descending=False, per_page=PAGE_SIZE)
        if awaiting
        else keyset_page(stmt, sort=Ticket.last_reply_at, id_column=Ticket.id, per_page=PAGE_SIZE)
    )
    # capped: a queue of 10 001 says "10000+" (docs/performance.md); the queue shown unfiltered
    # was just counted by its page
    counts = {
        key: (
            page.total + page.capped
            if key == queue and not filtered
            else capped_count(tickets.queue_query(key, me), Ticket.id)
        )
        for key in ("awaiting", "mine", "department")
    }
    args = {key: value for key, value in request.args.items() if key not in ("page", "format")}
    return render_template(
        "admin/support/list.html",
        page=page,
        queue=queue,
        queues=QUEUE_LABELS,
        counts=counts,
        cap=COUNT_CAP,
        args=args,
        departments=_departments(),
        staff=tickets.assignable_staff(),
        now=clock().now(),
        ticket_status_labels=labels_once(STATUS_LABELS),
        ticket_priority_labels=labels_once(PRIORITY_LABELS),
    )


# --- opening ----------------------------------------------------------------------------------


@admin_support.route("/new", methods=["GET", "POST"])
@requires(Permission.SUPPORT_REPLY)
def create() -> Response | str:
    form = NewTicketForm()
    form.department_id.choices = [(d.id, d.name) for d in _departments()]
    if request.method == "GET" and id_arg("client"):
        form.client_id.data = id_arg("client")
    if form.validate_on_submit():
        client = db.session.get(Client, form.client_id.data)
        if client is None:
            form.client_id.errors = [_("There is no client #%(id)s.", id=form.client_id.data)]
        else:
            try:
                ticket = tickets.open_ticket(
                    subject=form.subject.data,
                    body=form.body.data,
                    department_id=form.department_id.data,
                    client=client,
                    priority=form.priority.data,
                    cc=form.cc.data or "",
                    uploads=uploads_in_request(),
                    staff=_me(),
                    internal=form.internal.data,
                )
            except tickets.TicketError as exc:
                flash(str(exc), "danger")
            else:
                flash(_("Ticket #%(ref)s opened.", ref=ticket.reference), "success")
                return redirect(url_for("admin_support.view", ticket_id=ticket.id))
    return render_template("admin/support/new.html", form=form)


# --- the ticket -------------------------------------------------------------------------------


def _load(ticket_id: int) -> Ticket:
    ticket = db.session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(
            selectinload(Ticket.client).selectinload(Client.group),
            selectinload(Ticket.contact),
            selectinload(Ticket.department),
            selectinload(Ticket.assigned_staff),
            selectinload(Ticket.messages).selectinload(TicketMessage.attachments),
            selectinload(Ticket.messages).selectinload(TicketMessage.staff),
        )
    )
    if ticket is None:
        abort(404)
    return ticket


def _update_form(ticket: Ticket) -> TicketUpdateForm:
    form = TicketUpdateForm(
        department_id=ticket.department_id,
        priority=ticket.priority.value,
        status=ticket.status.value,
        assigned_staff_id=ticket.assigned_staff_id,
        tags=", ".join(ticket.tags),
        cc=", ".join(ticket.cc or []),
    )
    form.department_id.choices = [(None, "—"), *((d.id, d.name) for d in _departments())]
    staff = tickets.assignable_staff()
    if ticket.assigned_staff is not None and ticket.assigned_staff not in staff:
        staff.append(ticket.assigned_staff)  # blocked since: still shown, not silently dropped
    form.assigned_staff_id.choices = [(None, "—"), *((s.id, s.full_name) for s in staff)]
    return form


@admin_support.route("/<int:ticket_id>")
@requires(Permission.SUPPORT_VIEW)
def view(ticket_id: int) -> str:
    ticket = _load(ticket_id)
    me = _me()
    reply = ReplyForm()
    canned = canned_replies.for_department(ticket.department_id)
    if chosen := id_arg("canned"):
        reply_row = db.session.get(CannedReply, chosen)
        if reply_row is not None:
            reply.body.data = canned_replies.render(reply_row, ticket, me)
    important: list[Note] = []
    client_tickets: list[Ticket] = []
    if ticket.client_id is not None:
        important = list(
            db.session.scalars(
                select(Note)
                .where(Note.client_id == ticket.client_id, Note.important.is_(True))
                .options(selectinload(Note.author))
                .order_by(Note.created_at.desc())
            )
        )
        client_tickets = list(
            db.session.scalars(
                select(Ticket)
                .where(Ticket.client_id == ticket.client_id, Ticket.id != ticket.id)
                .order_by(Ticket.last_reply_at.desc())
                .limit(10)
            )
        )
    history = db.session.scalars(
        select(TicketAssignment)
        .where(TicketAssignment.ticket_id == ticket.id)
        .options(
            selectinload(TicketAssignment.staff),
            selectinload(TicketAssignment.department),
            selectinload(TicketAssignment.assigned_by),
        )
        .order_by(TicketAssignment.id)
    ).all()
    log = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "ticket", AuditEntry.entity_id == str(ticket.id))
        .order_by(AuditEntry.id.desc())
        .limit(30)
    ).all()
    now = clock().now()
    merged_into = None
    if ticket.merged_into_id is not None:
        merged_into = db.session.get(Ticket, ticket.merged_into_id)
    return render_template(
        "admin/support/ticket.html",
        ticket=ticket,
        reply_form=reply,
        note_form=NoteForm(),
        update_form=_update_form(ticket),
        merge_form=MergeForm(),
        canned=canned,
        service=tickets.related_service(ticket),
        service_labels=SERVICE_STATUS_LABELS,
        # Each canned reply's text for this ticket: the page's script inserts it at the cursor
        # without a reload; without the script, the link reloads with ?canned= as before.
        canned_texts={row.id: canned_replies.render(row, ticket, me) for row in canned},
        important=important,
        client_tickets=client_tickets,
        history=history,
        log=log,
        clocks=sla.clocks(ticket, now),
        format_duration=sla.format_duration,
        merged_into=merged_into,
    )


def _back(ticket: Ticket) -> Response:
    return redirect(url_for("admin_support.view", ticket_id=ticket.id))


@admin_support.route("/<int:ticket_id>/reply", methods=["POST"])
@requires(Permission.SUPPORT_REPLY)
def reply(ticket_id: int) -> Response:
    ticket = _ticket_or_404(ticket_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        flash(_("Write a reply."), "danger")
        return _back(ticket)
    try:
        tickets.staff_reply(
            ticket,
            _me(),
            form.body.data,
            uploads=uploads_in_request(),
            status=form.status.data,
        )
    except tickets.TicketError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("Reply sent."), "success")
    return _back(ticket)


@admin_support.route("/<int:ticket_id>/note", methods=["POST"])
@requires(Permission.SUPPORT_REPLY)
def note(ticket_id: int) -> Response:
    ticket = _ticket_or_404(ticket_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash(_("Write a note."), "danger")
        return _back(ticket)
    try:
        tickets.add_note(ticket, _me(), form.body.data, uploads=uploads_in_request())
    except tickets.TicketError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("Note added."), "success")
    return _back(ticket)


@admin_support.route("/<int:ticket_id>/update", methods=["POST"])
@requires(Permission.SUPPORT_REPLY)
def update(ticket_id: int) -> Response:
    ticket = _ticket_or_404(ticket_id)
    form = _update_form(ticket)
    if not form.validate_on_submit():
        flash(_("Check the ticket's details."), "danger")
        return _back(ticket)
    values = {
        "department_id": form.department_id.data,
        "priority": form.priority.data,
        "status": form.status.data,
        "assigned_staff_id": form.assigned_staff_id.data,
        "tags": form.tags.data or "",
        "cc": form.cc.data or "",
    }
    try:
        changed = tickets.update_ticket(
            ticket, _me(), values, notify_client=form.notify_client.data
        )
    except tickets.TicketError as exc:
        flash(str(exc), "danger")
    else:
        flash(
            _("Saved.") if changed else _("Nothing has changed."), "success" if changed else "info"
        )
    return _back(ticket)


@admin_support.route("/<int:ticket_id>/take", methods=["POST"])
@requires(Permission.SUPPORT_REPLY)
def take(ticket_id: int) -> Response:
    ticket = _ticket_or_404(ticket_id)
    tickets.take(ticket, _me())
    flash(_("The ticket is yours."), "success")
    return _back(ticket)


@admin_support.route("/<int:ticket_id>/merge", methods=["POST"])
@requires(Permission.SUPPORT_REPLY)
def merge(ticket_id: int) -> Response:
    target = _ticket_or_404(ticket_id)
    form = MergeForm()
    if not form.validate_on_submit():
        flash(_("Enter the numbers of the tickets to merge."), "danger")
        return _back(target)
    sources = []
    for item in form.references.data.replace(";", ",").split(","):
        key = item.strip().lstrip("#")
        if not key:
            continue
        found = (
            db.session.get(Ticket, db_id(key))
            if db_id(key)
            else db.session.scalar(select(Ticket).where(Ticket.reference == key.upper()))
        )
        if found is None:
            flash(_("There is no ticket %(key)s.", key=item.strip()), "danger")
            return _back(target)
        sources.append(found)
    try:
        tickets.merge(target, sources, _me())
    except tickets.TicketError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("Tickets merged."), "success")
    return _back(target)


@admin_support.route("/attachments/<int:attachment_id>")
@requires(Permission.SUPPORT_VIEW)
def attachment(attachment_id: int) -> Response:
    row = db.session.get(TicketAttachment, attachment_id)
    if row is None:
        abort(404)
    return attachments.send_attachment(row)


# --- canned replies ---------------------------------------------------------------------------


def _canned_form(reply_row: CannedReply | None) -> CannedReplyForm:
    form = CannedReplyForm(obj=reply_row)
    form.department_id.choices = [
        (None, _("All departments")),
        *((d.id, d.name) for d in _departments()),
    ]
    return form


def _save_canned(form: CannedReplyForm, row: CannedReply | None, done: str) -> bool:
    """Validate and store a canned reply (new when ``row`` is None); True when saved."""
    if not form.validate_on_submit():
        return False
    try:
        canned_replies.save(
            row,
            title=form.title.data,
            body=form.body.data,
            department_id=form.department_id.data,
        )
    except canned_replies.CannedReplyError as exc:
        flash(str(exc), "danger")
        return False
    flash(done, "success")
    return True


@admin_support.route("/canned", methods=["GET", "POST"])
@requires(Permission.SUPPORT_REPLY)
def canned_list() -> Response | str:
    form = _canned_form(None)
    if _save_canned(form, None, _("Canned reply added.")):
        return redirect(url_for("admin_support.canned_list"))
    page = keyset_page(
        select(CannedReply).options(selectinload(CannedReply.department)),
        sort=CannedReply.title,
        id_column=CannedReply.id,
        descending=False,
    )
    return render_template(
        "admin/support/canned.html", replies=page, form=form, variables=canned_replies.VARIABLES
    )


@admin_support.route("/canned/<int:reply_id>", methods=["GET", "POST"])
@requires(Permission.SUPPORT_REPLY)
def canned_edit(reply_id: int) -> Response | str:
    row = db.session.get(CannedReply, reply_id)
    if row is None:
        abort(404)
    form = _canned_form(row)
    if _save_canned(form, row, _("Saved.")):
        return redirect(url_for("admin_support.canned_list"))
    return render_template(
        "admin/support/canned_edit.html", reply=row, form=form, variables=canned_replies.VARIABLES
    )


@admin_support.route("/canned/<int:reply_id>/delete", methods=["POST"])
@requires(Permission.SUPPORT_REPLY)
def canned_delete(reply_id: int) -> Response:
    row = db.session.get(CannedReply, reply_id)
    if row is None:
        abort(404)
    canned_replies.delete(row)
    flash(_("Canned reply deleted."), "success")
    return redirect(url_for("admin_support.canned_list"))


# --- reports ----------------------------------------------------------------------------------


@admin_support.route("/reports")
@requires(Permission.REPORTS_VIEW)
def report() -> Response:
    """The support report is under Reports now (``portal.support.reports``); old links and
    bookmarks land there with their dates."""
    kept = {key: request.args[key] for key in ("since", "until", "format") if key in request.args}
    return redirect(url_for("admin_reports.report", name="support", **kept))


# --- e-mail queue -----------------------------------------------------------------------------
