"""tblcustomfields + tblcustomfieldsvalues -> the portal's client custom fields and values.

Client fields (``type = 'client'``) become custom fields of the same name, staff-only when
WHMCS showed them to admins only. Those holding the ИНН or КПП are imported too: the clients
step has already put a valid value onto the client's legal details, and the field keeps the
raw value as WHMCS had it. Product and support fields have no counterpart (the portal's custom
fields are the clients'): each such field is refused with the number of values left behind.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts import audit
from portal.accounts.models import Client, CustomField, CustomFieldValue, FieldType
from portal.core.extensions import db
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.values import fit, flag

FIELDS = "tblcustomfields"
VALUES = "tblcustomfieldsvalues"
TYPES = {
    "text": FieldType.TEXT,
    "textarea": FieldType.TEXT,
    "link": FieldType.TEXT,
    "password": FieldType.TEXT,
    "tickbox": FieldType.CHECKBOX,
    "dropdown": FieldType.DROPDOWN,
}
VALUES_SELECT = (
    "SELECT v.* FROM tblcustomfieldsvalues v"
    " JOIN tblcustomfields f ON f.id = v.fieldid AND f.type = 'client'"
)


def run(ctx: ImportContext) -> None:
    for row in ctx.rows(FIELDS, changed=("updated_at", "created_at")):
        ctx.sync(
            FIELDS,
            row,
            target_table="custom_field",
            write=lambda existing, row=row: _field(ctx, row, existing),
            exists=lambda target: db.session.get(CustomField, target) is not None,
        )
    for row in ctx.rows(
        VALUES, select=VALUES_SELECT, changed=("v.updated_at", "v.created_at"), order_by="v.id"
    ):
        ctx.sync(
            VALUES,
            row,
            target_table="custom_field_value",
            write=lambda existing, row=row: _value(ctx, row, existing),
            exists=lambda target: db.session.get(CustomFieldValue, target) is not None,
        )


def _field(ctx: ImportContext, row: dict, existing: int | None) -> int:
    if row["type"] != "client":
        left = ctx.source.scalar(
            "SELECT COUNT(*) FROM tblcustomfieldsvalues WHERE fieldid = :id", id=row["id"]
        )
        raise Refused(
            f"a {row['type']} field ({row['fieldname']!r}): the portal's custom fields are "
            f"the clients' only; its {left} values are not carried over"
        )
    name = fit(ctx, FIELDS, row["id"], "fieldname", row["fieldname"], 100)
    field = db.session.get(CustomField, existing) if existing else None
    if field is None:
        field = db.session.scalar(select(CustomField).where(CustomField.name == name))
    if field is None:
        field = CustomField(name=name)
        db.session.add(field)
    field.name = name
    field.type = TYPES.get(str(row["fieldtype"]).strip().lower(), FieldType.TEXT)
    field.required = flag(row["required"])
    field.client_visible = not flag(row["adminonly"])
    field.options = (
        [option.strip() for option in str(row["fieldoptions"] or "").split(",") if option.strip()]
        if field.type is FieldType.DROPDOWN
        else []
    )
    field.sort_order = int(row["sortorder"] or 0)
    db.session.flush()
    audit.record(
        "custom_field.import",
        "custom_field",
        field.id,
        note=f"WHMCS custom field #{row['id']}",
        system="whmcs import",
    )
    return field.id


def _value(ctx: ImportContext, row: dict, existing: int | None) -> int:
    field_id = ctx.mappings.target_id(FIELDS, row["fieldid"])
    client_id = ctx.mappings.target_id("tblclients", row["relid"])
    if field_id is None:
        raise Refused(f"its field #{row['fieldid']} was not imported")
    if client_id is None or db.session.get(Client, client_id) is None:
        raise Refused(f"its client #{row['relid']} was not imported")
    value = db.session.get(CustomFieldValue, existing) if existing else None
    if value is None:
        value = db.session.scalar(
            select(CustomFieldValue).where(
                CustomFieldValue.client_id == client_id, CustomFieldValue.field_id == field_id
            )
        )
    if value is None:
        value = CustomFieldValue(client_id=client_id, field_id=field_id)
        db.session.add(value)
    value.value = str(row["value"] or "")
    db.session.flush()
    return value.id
