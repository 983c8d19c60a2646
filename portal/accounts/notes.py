"""Staff notes on clients and staff to-do items."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts import audit
from portal.accounts.models.note import Note
from portal.accounts.models.todo import TodoItem
from portal.core.app_state import clock
from portal.core.extensions import db


class NoteError(ValueError):
    pass


def add_note(client_id: int, author_id: int, body: str, *, important: bool = False) -> Note:
    body = body.strip()
    if not body:
        raise NoteError(_("The note is empty."))
    note = Note(
        client_id=client_id,
        author_id=author_id,
        body=body,
        important=important,
        created_at=clock().now(),
    )
    db.session.add(note)
    db.session.flush()
    audit.record(
        "note.create",
        "note",
        note.id,
        after={"body": body, "important": important},
        client_id=client_id,
    )
    db.session.commit()
    return note


def edit_note(note: Note, body: str, *, important: bool) -> None:
    body = body.strip()
    if not body:
        raise NoteError(_("The note is empty."))
    before = {"body": note.body, "important": note.important}
    note.body, note.important, note.updated_at = body, important, clock().now()
    changed_before, changed_after = audit.diff(before, {"body": body, "important": important})
    if changed_after:
        audit.record(
            "note.update",
            "note",
            note.id,
            before=changed_before,
            after=changed_after,
            client_id=note.client_id,
        )
    db.session.commit()


def delete_note(note: Note) -> None:
    audit.record(
        "note.delete",
        "note",
        note.id,
        before={"body": note.body, "important": note.important},
        client_id=note.client_id,
    )
    db.session.delete(note)
    db.session.commit()


def add_todo(
    *,
    title: str,
    created_by_id: int,
    assignee_id: int | None,
    due_date: date | None,
    description: str = "",
    client_id: int | None = None,
) -> TodoItem:
    if not title.strip():
        raise NoteError(_("The to-do item needs a title."))
    item = TodoItem(
        title=title.strip(),
        description=description.strip(),
        due_date=due_date,
        assignee_id=assignee_id,
        created_by_id=created_by_id,
        client_id=client_id,
        created_at=clock().now(),
    )
    db.session.add(item)
    db.session.commit()
    return item


def complete_todo(item: TodoItem) -> None:
    item.done_at = clock().now()
    db.session.commit()


def todos_due_count(today: date) -> int:
    """Open to-do items due today or earlier: the dashboard counter."""
    return (
        db.session.scalar(
            select(func.count(TodoItem.id)).where(
                TodoItem.done_at.is_(None), TodoItem.due_date <= today
            )
        )
        or 0
    )
