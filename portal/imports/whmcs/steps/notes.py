"""tblnotes -> client notes (sticky ones pinned as important), with their author when the
WHMCS admin was imported as staff."""

from __future__ import annotations

from portal.accounts import audit
from portal.accounts.models import Client, Note
from portal.core.extensions import db
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.values import flag, moment

TABLE = "tblnotes"


def run(ctx: ImportContext) -> None:
    for row in ctx.rows(TABLE, changed=("modified", "created")):
        ctx.sync(
            TABLE,
            row,
            target_table="note",
            write=lambda existing, row=row: _write(ctx, row, existing),
            exists=lambda target: db.session.get(Note, target) is not None,
        )


def _write(ctx: ImportContext, row: dict, existing: int | None) -> int:
    client_id = ctx.mappings.target_id("tblclients", row["userid"])
    if client_id is None or db.session.get(Client, client_id) is None:
        raise Refused(f"its client #{row['userid']} was not imported")
    body = str(row["note"] or "").strip()
    if not body:
        raise Refused("an empty note")
    note = db.session.get(Note, existing) if existing else None
    if note is None:
        note = Note(client_id=client_id, created_at=moment(ctx, row["created"]) or ctx.now)
        db.session.add(note)
    note.client_id = client_id
    note.author_id = ctx.mappings.target_id("tbladmins", row["adminid"]) if row["adminid"] else None
    note.body = body
    note.important = flag(row["sticky"])
    note.updated_at = moment(ctx, row["modified"])
    db.session.flush()
    audit.record(
        "note.import",
        "note",
        note.id,
        client_id=client_id,
        note=f"WHMCS note #{row['id']}",
        system="whmcs import",
    )
    return note.id
