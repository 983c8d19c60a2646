"""tbltodolist -> the staff's to-do items (the portal's to-do list on the dashboard).

WHMCS's statuses are New, Pending, In Progress, Completed and Postponed; the portal's item is
open or done, so "Completed" marks it done (on its due date, or the day it was written) and
any other status than "New" is kept at the end of the description.
"""

from __future__ import annotations

from portal.accounts import audit
from portal.accounts.models import TodoItem
from portal.core.extensions import db
from portal.imports.whmcs.context import ImportContext
from portal.imports.whmcs.values import fit, moment

TABLE = "tbltodolist"


def run(ctx: ImportContext) -> None:
    for row in ctx.rows(TABLE, changed=("date", "duedate")):
        ctx.sync(
            TABLE,
            row,
            target_table="todo_item",
            write=lambda existing, row=row: _write(ctx, row, existing),
            exists=lambda target: db.session.get(TodoItem, target) is not None,
        )


def _write(ctx: ImportContext, row: dict, existing: int | None) -> int:
    item = db.session.get(TodoItem, existing) if existing else None
    if item is None:
        item = TodoItem(created_at=moment(ctx, row["date"]) or ctx.now)
        db.session.add(item)
    status = str(row["status"] or "").strip()
    description = str(row["description"] or "").strip()
    if status and status.lower() not in {"new", "completed"}:
        description = f"{description}\n\n(WHMCS: {status})".strip()
    item.title = fit(ctx, TABLE, row["id"], "title", row["title"], 255) or f"WHMCS #{row['id']}"
    item.description = description
    item.due_date = row["duedate"]
    item.assignee_id = ctx.mappings.target_id("tbladmins", row["admin"]) if row["admin"] else None
    done = status.lower() == "completed"
    item.done_at = (moment(ctx, row["duedate"] or row["date"]) or ctx.now) if done else None
    db.session.flush()
    audit.record(
        "todo.import", "todo_item", item.id, note=f"WHMCS to-do #{row['id']}", system="whmcs import"
    )
    return item.id
