"""tbladmins -> staff, without their WHMCS passwords.

The portal has no invitation mail for staff: an administrator sets each imported member's
password (Staff -> edit) and unblocks them. So imported staff are created blocked, with no usable
password. A staff member whose e-mail the portal already has is matched to that account and
left as it is. WHMCS roles map by name: Full Administrator -> administrator, Sales Operator ->
sales manager, anything else -> support (give more by hand).
"""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts import audit
from portal.accounts.models import Department, Staff
from portal.accounts.models.account import normalise_email
from portal.accounts.models.permissions import Role
from portal.core.extensions import db
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.values import NO_PASSWORD, fit, language

TABLE = "tbladmins"
ROLES = {1: "administrator", 2: "sales_manager", 3: "support"}


def run(ctx: ImportContext) -> None:
    for row in ctx.rows(TABLE, changed=("updated_at", "created_at")):
        ctx.sync(
            TABLE,
            row,
            target_table="staff",
            write=lambda existing, row=row: _write(ctx, row, existing),
            exists=lambda target: db.session.get(Staff, target) is not None,
        )


def staff_for(ctx: ImportContext, name: object) -> int | None:
    """The staff id of a WHMCS admin named by username or full name, as tickets name them.
    Read from every admin (not only those this run read: ``--since``) once staff are in."""
    names = ctx.lookups.get("staff_by_name")
    if names is None:
        names = {}
        for row in ctx.source.query("SELECT id, username, firstname, lastname FROM tbladmins"):
            staff_id = ctx.mappings.target_id(TABLE, row["id"])
            if staff_id is not None:
                names[str(row["username"]).strip().lower()] = staff_id
                names.setdefault(f"{row['firstname']} {row['lastname']}".strip().lower(), staff_id)
        ctx.lookups["staff_by_name"] = names
    return names.get(str(name or "").strip().lower())


def _role(key: str) -> Role | None:
    """The built-in role (seeded by the migrations; not created here: ``ensure_builtin_roles``
    commits, which a dry run must not)."""
    return db.session.scalar(select(Role).where(Role.key == key))


def _write(ctx: ImportContext, row: dict, existing: int | None) -> int:
    email = normalise_email(str(row["email"] or ""))
    if not email:
        raise Refused("no e-mail: staff sign in with their e-mail")
    staff = db.session.get(Staff, existing) if existing else None
    if staff is None:
        matched = db.session.scalar(select(Staff).where(Staff.email == email))
        if matched is not None:
            return matched.id  # an account the portal already has: not ours to change
        staff = Staff(
            email=email,
            password_hash=NO_PASSWORD,
            is_active=False,
            created_at=ctx.now,
            role=_role(ROLES.get(row["roleid"], "support")),
        )
        db.session.add(staff)
    elif staff.password_hash != NO_PASSWORD:
        return staff.id  # staff has signed in since: their account is theirs now
    else:
        staff.email = email
    staff.first_name = fit(ctx, TABLE, row["id"], "firstname", row["firstname"], 100) or email
    staff.last_name = fit(ctx, TABLE, row["id"], "lastname", row["lastname"], 100)
    staff.language = language(row["language"])
    department_ids = []
    for part in str(row["supportdepts"] or "").split(","):
        if part.strip().isdigit():
            target = ctx.mappings.target_id("tblticketdepartments", int(part))
            if target is not None:
                department_ids.append(target)
    found = (db.session.get(Department, target) for target in department_ids)
    staff.departments = [department for department in found if department is not None]
    db.session.flush()
    audit.record(
        "staff.import", "staff", staff.id, note=f"WHMCS admin #{row['id']}", system="whmcs import"
    )
    return staff.id
