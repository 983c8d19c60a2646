"""tblproductgroups -> product groups. A portal group of the same name is taken over (the
catalogue may have been started by hand); WHMCS's hidden groups hide their products instead."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.catalog.models import ProductGroup
from portal.core.extensions import db
from portal.imports.whmcs.context import ImportContext

TABLE = "tblproductgroups"


def run(ctx: ImportContext) -> None:
    """Writes flush themselves: nothing half-built is flushed by a lookup in between."""
    with db.session.no_autoflush:
        for row in ctx.rows(TABLE, changed=("updated_at",)):
            ctx.sync(
                TABLE,
                row,
                target_table="product_group",
                write=lambda existing, row=row: _write(row, existing),
                exists=lambda target: db.session.get(ProductGroup, target) is not None,
            )


def _write(row: dict[str, Any], existing: int | None) -> int:
    name = (row["name"] or "").strip()[:200] or f"WHMCS #{row['id']}"
    group = db.session.get(ProductGroup, existing) if existing else None
    if group is None:
        group = db.session.scalar(select(ProductGroup).where(ProductGroup.name == name))
    if group is None:
        group = ProductGroup(name=name)
        db.session.add(group)
    elif group.name != name and db.session.scalar(
        select(ProductGroup.id).where(ProductGroup.name == name)
    ):
        name = f"{name} (WHMCS #{row['id']})"
    group.name = name
    group.sort_order = int(row["order"] or 0)
    db.session.flush()
    return group.id
