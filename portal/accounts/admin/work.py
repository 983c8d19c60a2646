"""Staff's own work: to-do items (counted on the dashboard) and the notes they wrote."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portal.accounts import notes
from portal.accounts.forms import TodoForm
from portal.accounts.models import Staff
from portal.accounts.models.note import Note
from portal.accounts.models.todo import TodoItem
from portal.core.extensions import db
from portal.web.identity import Area
from portal.web.paging import keyset_page, nulls_last
from portal.web.permissions import requires
from portal.web.query_args import id_arg

admin_work = Blueprint("admin_work", __name__, url_prefix="/admin/work")
admin_work.portal_area = Area.ADMIN  # type: ignore[attr-defined]


@admin_work.route("/todos", methods=["GET", "POST"])
@requires()
def todos() -> Response | str:
    form = TodoForm()
    staff = db.session.scalars(
        select(Staff).where(Staff.is_active.is_(True)).order_by(Staff.first_name)
    )
    form.assignee_id.choices = [(None, "—"), *((s.id, s.full_name) for s in staff)]
    if request.method == "GET":
        form.assignee_id.data = current_user.id
    if form.validate_on_submit():
        notes.add_todo(
            title=form.title.data,
            description=form.description.data or "",
            due_date=form.due_date.data,
            assignee_id=form.assignee_id.data,
            created_by_id=current_user.id,
            client_id=id_arg("client_id"),
        )
        flash(_("To-do item added."), "success")
        return redirect(url_for("admin_work.todos"))
    show = request.args.get("show", "mine")
    stmt = (
        select(TodoItem)
        .where(TodoItem.done_at.is_(None))
        .options(selectinload(TodoItem.assignee), selectinload(TodoItem.client))
    )
    if show == "mine":
        stmt = stmt.where(TodoItem.assignee_id == current_user.id)
    # due first, undated last: a keyset on the date read as 9999-12-31 when there is none, in
    # the order of the partial indexes ix_todo_item_open_due(_all) (docs/performance.md)
    page = keyset_page(
        stmt, sort=nulls_last(TodoItem.due_date), id_column=TodoItem.id, descending=False
    )
    return render_template("admin/work/todos.html", items=page, form=form, show=show)


@admin_work.route("/todos/<int:item_id>/done", methods=["POST"])
@requires()
def todo_done(item_id: int) -> Response:
    item = db.session.get(TodoItem, item_id)
    if item is None:
        abort(404)
    notes.complete_todo(item)
    flash(_("Done: %(title)s", title=item.title), "success")
    return redirect(url_for("admin_work.todos"))


@admin_work.route("/notes")
@requires()
def my_notes() -> str:
    page = keyset_page(
        select(Note).where(Note.author_id == current_user.id).options(selectinload(Note.client)),
        sort=Note.created_at,
        id_column=Note.id,
    )
    return render_template("admin/work/my_notes.html", page=page)
