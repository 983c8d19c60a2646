"""tblticketdepartments -> departments (a department of the same name is reused).

Mail fetching settings (host, login, password) are not carried over: the portal reads support
mail its own way (docs/support.md).
"""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts import audit
from portal.accounts.models import Department
from portal.core.extensions import db
from portal.imports.whmcs.context import ImportContext
from portal.imports.whmcs.values import fit, flag

TABLE = "tblticketdepartments"


def run(ctx: ImportContext) -> None:
    for row in ctx.rows(TABLE):

        def write(existing: int | None, row: dict = row) -> int:
            name = fit(ctx, TABLE, row["id"], "name", row["name"], 100) or f"WHMCS {row['id']}"
            department = db.session.get(Department, existing) if existing else None
            if department is None:
                department = db.session.scalar(select(Department).where(Department.name == name))
            if department is None:
                department = Department(name=name)
                db.session.add(department)
            department.name = name
            department.email = fit(ctx, TABLE, row["id"], "email", row["email"], 254).lower()
            department.hidden = flag(row["hidden"])
            db.session.flush()
            audit.record(
                "department.import",
                "department",
                department.id,
                note=f"WHMCS #{row['id']}",
                system="whmcs import",
            )
            return department.id

        ctx.sync(
            TABLE,
            row,
            target_table="department",
            write=write,
            exists=lambda target: db.session.get(Department, target) is not None,
        )
