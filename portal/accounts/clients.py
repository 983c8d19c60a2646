"""Client use cases: create and edit with legal details, duplicates, close, delete, merge.

Every change is audited with the fields before and after. The rows other areas (and plugins)
keep per client — services, orders, invoices, payments, tickets — are not known here: each
returns :class:`ClientRecords` from the ``register_client_records`` hook (the areas from their
built-in plugins, ``portal/<area>/builtin_hooks.py``), which say how they move in a merge and
whether they are history that keeps a client from being deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts import audit
from portal.accounts.models import Client, ClientStatus
from portal.accounts.models.account import normalise_email
from portal.accounts.models.client import ClientGroup
from portal.accounts.models.contact import Contact
from portal.accounts.models.custom_field import CustomField, CustomFieldValue, FieldType
from portal.accounts.models.note import Note
from portal.accounts.models.todo import TodoItem
from portal.accounts.requisites import (
    LegalType,
    RequisiteError,
    clean_account,
    clean_bic,
    clean_inn,
    clean_kpp,
)
from portal.accounts.sessions import end_sessions
from portal.accounts.sign_in import queue_welcome_email
from portal.billing.amounts import parse_amount
from portal.core.app_state import clock, plugins
from portal.core.extensions import db
from portal.core.transactions import unit_of_work
from portal.platform.hooks import events

#: Fields staff edit on the Profile tab, in the order of the form; audited by name.
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "address",
    "city",
    "region",
    "postcode",
    "country",
    "language",
    "currency",
    "status",
    "group_id",
    "manager_id",
    "sales_manager_id",
    "referred_by_id",
    "rating",
    "label",
    "legal_type",
    "inn",
    "kpp",
    "bank_name",
    "bank_bic",
    "bank_account",
    "bank_corr_account",
    "no_late_fees",
    "no_overdue_notices",
    "tax_exempt",
    "separate_invoices",
    "never_suspend",
    "no_suspend_until",
    "credit_limit",
    "payment_terms_days",
    "block_orders_after_days",
    "billing_contact_id",
    "admin_notes",
)

REQUISITE_MESSAGES = {
    "inn_digits": _l("The INN must consist of digits only."),
    "inn_length": _l("The INN of this legal type has %(expected)s digits, not %(actual)s."),
    "inn_checksum": _l("The INN check digits are wrong: check the number for a typo."),
    "kpp_length": _l("The KPP has 9 characters, not %(actual)s."),
    "kpp_format": _l("The KPP is 4 digits, 2 digits or capital letters, then 3 digits."),
    "bic_format": _l("The BIC has 9 digits."),
    "account_format": _l("The account number has 20 digits."),
    "account_checksum": _l("The account number does not match the bank's BIC: check both."),
}


class ClientError(ValueError):
    """A problem the user can fix; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ClientRecords:
    """Rows an area or a plugin keeps per client, returned by ``register_client_records``.

    ``move(source_id, target_id)`` re-points them during a merge; ``refuse_merge(source_id,
    target_id)`` may return the message that refuses the merge, asked of every
    ``ClientRecords`` before anything moves; ``has_history(client_id)`` is true when the rows
    are history a client must keep (invoices, payments, orders): such a client is closed, not
    deleted, and keeps its legal type. This is a registry and not an event: the movers run in
    the merge's transaction, unisolated, and one that fails fails the merge, rolled back whole.
    """

    name: str
    move: Callable[[int, int], None]
    has_history: Callable[[int], bool] | None = None
    refuse_merge: Callable[[int, int], str | None] | None = None


def client_records() -> list[ClientRecords]:
    """Every area's and plugin's records, in pluggy's order (plugins first, then built-ins)."""
    return plugins().collect("register_client_records")


@dataclass(frozen=True)
class Duplicate:
    client: Client
    reasons: tuple[str, ...]  # "email", "inn", "phone"


def has_financial_history(client_id: int) -> bool:
    return any(
        records.has_history(client_id)
        for records in client_records()
        if records.has_history is not None
    )


def find_duplicates(
    *, email: str = "", inn: str = "", phone: str = "", exclude_id: int | None = None
) -> list[Duplicate]:
    """Clients sharing the e-mail, INN or phone: staff are warned before creating a second one."""
    conditions = []
    if email:
        conditions.append(Client.email == normalise_email(email))
    if inn:
        conditions.append(Client.inn == inn.strip())
    if phone:
        conditions.append(Client.phone == phone.strip())
    if not conditions:
        return []
    stmt = select(Client).where(or_(*conditions)).order_by(Client.id)
    if exclude_id is not None:
        stmt = stmt.where(Client.id != exclude_id)
    found = []
    for other in db.session.scalars(stmt):
        reasons = tuple(
            reason
            for reason, same in (
                ("email", email and other.email == normalise_email(email)),
                ("inn", inn and other.inn == inn.strip()),
                ("phone", phone and other.phone == phone.strip()),
            )
            if same
        )
        found.append(Duplicate(other, reasons))
    return found


def _clean_requisites(values: dict[str, Any]) -> None:
    """Validate and normalise INN, KPP and bank details in place (ClientError on a mistake)."""
    legal_type = LegalType(values["legal_type"])
    field = ""
    try:
        field = "inn"
        if values.get("inn"):
            values["inn"] = clean_inn(values["inn"], legal_type)
        elif legal_type is not LegalType.INDIVIDUAL:
            raise ClientError(_("The INN is required for companies and sole proprietors."), "inn")
        field = "kpp"
        if legal_type is LegalType.LEGAL_ENTITY and values.get("kpp"):
            values["kpp"] = clean_kpp(values["kpp"])
        elif legal_type is not LegalType.LEGAL_ENTITY:
            values["kpp"] = ""
        field = "bank_bic"
        if values.get("bank_bic"):
            values["bank_bic"] = clean_bic(values["bank_bic"])
        field = "bank_account"
        if values.get("bank_account"):
            if not values.get("bank_bic"):
                raise ClientError(_("Enter the bank's BIC to check the account number."), field)
            values["bank_account"] = clean_account(values["bank_account"], values["bank_bic"])
    except RequisiteError as exc:
        raise ClientError(str(REQUISITE_MESSAGES[exc.code] % exc.params), field) from None


def check_inn_kpp(inn: str, kpp: str = "") -> tuple[str, str]:
    """An organisation's INN and KPP, cleaned and checked by the rules of the client profile:
    10 digits (a legal entity, which needs a KPP) or 12 (a sole proprietor, who has none), the
    check digits, the KPP's format. Raises :class:`ClientError` naming the field ("inn" or
    "kpp") with a translated message."""
    number = re.sub(r"\s", "", inn or "")
    legal_type = LegalType.SOLE_PROPRIETOR if len(number) == 12 else LegalType.LEGAL_ENTITY
    field = "inn"
    try:
        number = clean_inn(number, legal_type)
        field = "kpp"
        if legal_type is LegalType.SOLE_PROPRIETOR:
            if (kpp or "").strip():
                raise ClientError(_("A sole proprietor (12-digit INN) has no KPP."), field)
            return number, ""
        if not (kpp or "").strip():
            raise ClientError(_("Enter the KPP of the organisation."), field)
        return number, clean_kpp(kpp)
    except RequisiteError as exc:
        raise ClientError(str(REQUISITE_MESSAGES[exc.code] % exc.params), field) from None


def email_in_use(email: str, exclude_id: int | None) -> bool:
    stmt = select(Client.id).where(Client.email == normalise_email(email))
    if exclude_id is not None:
        stmt = stmt.where(Client.id != exclude_id)
    return db.session.scalar(stmt) is not None


def _check_email(email: str, exclude_id: int | None) -> str:
    if email_in_use(email, exclude_id):
        raise ClientError(_("Another client already uses this e-mail."), "email")
    return normalise_email(email)


def create_client(
    values: Mapping[str, Any], *, password: str, send_welcome: bool = False
) -> Client:
    """Create a client from the staff form (duplicates are warned about by the view, not here);
    ``send_welcome`` queues the welcome mail with it."""
    data = {key: values[key] for key in PROFILE_FIELDS if key in values}
    data.setdefault("legal_type", LegalType.INDIVIDUAL)
    data["email"] = _check_email(data["email"], None)
    _clean_requisites(data)
    client = Client(**data, created_at=clock().now())
    client.set_password(password)
    db.session.add(client)
    db.session.flush()
    audit.record(
        "client.create",
        "client",
        client.id,
        after=audit.snapshot(client, PROFILE_FIELDS),
        client_id=client.id,
    )
    if send_welcome:
        queue_welcome_email(client)
    events.fire("client_created", client=client)
    db.session.commit()
    return client


def update_client(client: Client, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Apply staff edits; returns the changed fields. Refuses a legal-type change once invoiced."""
    data = {key: values[key] for key in PROFILE_FIELDS if key in values}
    data.setdefault("legal_type", client.legal_type)
    if "email" in data:
        data["email"] = _check_email(data["email"], client.id)
    _clean_requisites(data)
    if LegalType(data["legal_type"]) != client.legal_type and has_financial_history(client.id):
        raise ClientError(
            _(
                "The legal type cannot change: this client has already been invoiced. "
                "Create a new client for the new legal entity."
            ),
            "legal_type",
        )
    if data.get("billing_contact_id"):
        owner = db.session.scalar(
            select(Contact.client_id).where(Contact.id == data["billing_contact_id"])
        )
        if owner != client.id:
            raise ClientError(_("Choose a contact of this client."), "billing_contact_id")
    before = audit.snapshot(client, PROFILE_FIELDS)
    for key, value in data.items():
        setattr(client, key, value)
    if data.get("status") == ClientStatus.CLOSED and client.closed_at is None:
        client.closed_at = clock().now()
    changed_before, changed_after = audit.diff(before, audit.snapshot(client, PROFILE_FIELDS))
    if changed_after:
        audit.record(
            "client.update",
            "client",
            client.id,
            before=changed_before,
            after=changed_after,
            client_id=client.id,
        )
    db.session.commit()
    return {key: (changed_before[key], changed_after[key]) for key in changed_after}


def close_client(client: Client) -> None:
    """Close the account: the client can no longer sign in, all history stays."""
    if client.status == ClientStatus.CLOSED:
        raise ClientError(_("This client is already closed."))
    before = {"status": client.status.value}
    client.status = ClientStatus.CLOSED
    client.closed_at = clock().now()
    end_sessions(client)
    audit.record(
        "client.close",
        "client",
        client.id,
        before=before,
        after={"status": client.status.value},
        client_id=client.id,
    )
    db.session.commit()


def delete_client(client: Client) -> None:
    """Delete a client without financial history; otherwise staff must close it."""
    if has_financial_history(client.id):
        raise ClientError(
            _("This client has invoices or payments and cannot be deleted. Close it instead.")
        )
    snapshot = audit.snapshot(client, PROFILE_FIELDS)
    client_id = client.id
    db.session.execute(
        update(Client).where(Client.referred_by_id == client_id).values(referred_by_id=None)
    )
    client.billing_contact_id = None
    db.session.flush()
    db.session.delete(client)
    audit.record("client.delete", "client", client_id, before=snapshot, client_id=None)
    db.session.commit()


def merge_clients(target: Client, source: Client, *, staff_id: int | None) -> None:
    """Merge ``source`` into ``target``: everything of B moves to A, then B is deleted.

    Contacts, notes, to-dos and custom field values (where A has none) move here; services,
    orders, invoices, payments and tickets move through their areas' :class:`ClientRecords`,
    each of which may refuse the merge before anything has moved. The audit entry and an
    important note on A keep both ids; B's own audit entries stay filed under B's id.
    """
    if target.id == source.id:
        raise ClientError(_("A client cannot be merged into itself."))
    source_id, target_id = source.id, target.id
    summary = audit.snapshot(source, PROFILE_FIELDS)
    records = client_records()
    for refuse in (r.refuse_merge for r in records if r.refuse_merge is not None):
        refusal = refuse(source_id, target_id)
        if refusal:
            db.session.rollback()
            raise ClientError(refusal)
    for moved in records:
        moved.move(source_id, target_id)
    for model in (Contact, Note, TodoItem):
        db.session.execute(
            update(model).where(model.client_id == source_id).values(client_id=target_id)
        )
    taken = select(CustomFieldValue.field_id).where(CustomFieldValue.client_id == target_id)
    db.session.execute(
        update(CustomFieldValue)
        .where(CustomFieldValue.client_id == source_id, CustomFieldValue.field_id.not_in(taken))
        .values(client_id=target_id)
    )
    db.session.execute(delete(CustomFieldValue).where(CustomFieldValue.client_id == source_id))
    db.session.execute(
        update(Client).where(Client.referred_by_id == source_id).values(referred_by_id=target_id)
    )
    source.billing_contact_id = None
    db.session.flush()
    db.session.expire_all()
    db.session.delete(db.session.get(Client, source_id))
    db.session.add(
        Note(
            client_id=target_id,
            body=_(
                "Client #%(source)s (%(name)s, %(email)s) was merged into this client.",
                source=source_id,
                name=summary["company"] or summary["first_name"],
                email=summary["email"],
            ),
            important=True,
            created_at=clock().now(),
            author_id=staff_id,
        )
    )
    audit.record(
        "client.merge",
        "client",
        target_id,
        before={"merged_client_id": source_id, **summary},
        after={"client_id": target_id},
        client_id=target_id,
        note=f"#{source_id} -> #{target_id}",
    )
    db.session.commit()


def client_counts(client_id: int) -> dict[str, int]:
    """Counts for the summary tab, in one query."""
    counts = db.session.execute(
        select(
            select(func.count(Contact.id)).where(Contact.client_id == client_id).scalar_subquery(),
            select(func.count(Note.id)).where(Note.client_id == client_id).scalar_subquery(),
            select(func.count(TodoItem.id))
            .where(TodoItem.client_id == client_id, TodoItem.done_at.is_(None))
            .scalar_subquery(),
        )
    ).one()
    return {"contacts": counts[0], "notes": counts[1], "todos": counts[2]}


# --- custom fields ------------------------------------------------------------------------------


def custom_fields(*, client_visible_only: bool = False) -> list[CustomField]:
    stmt = select(CustomField).order_by(CustomField.sort_order, CustomField.name)
    if client_visible_only:
        stmt = stmt.where(CustomField.client_visible.is_(True))
    return list(db.session.scalars(stmt))


def custom_values(client_id: int) -> dict[int, str]:
    rows = db.session.execute(
        select(CustomFieldValue.field_id, CustomFieldValue.value).where(
            CustomFieldValue.client_id == client_id
        )
    )
    return {field_id: value for field_id, value in rows}


def clean_custom_value(field: CustomField, raw: str) -> str:
    """Normalise one value by the field's type; ClientError with the field's name otherwise."""
    value = (raw or "").strip()
    key = f"custom_{field.id}"
    if not value or (field.type is FieldType.CHECKBOX and value in ("0", "n", "")):
        if field.required and field.type is not FieldType.CHECKBOX:
            raise ClientError(_("%(field)s is required.", field=field.name), key)
        return "0" if field.type is FieldType.CHECKBOX else ""
    if field.type is FieldType.NUMBER:
        try:
            number = parse_amount(value, signed=True, places=8)
        except ValueError:
            raise ClientError(_("%(field)s must be a number.", field=field.name), key) from None
        return str(int(number)) if number == number.to_integral_value() else str(number)
    if field.type is FieldType.DATE:
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ClientError(
                _("%(field)s must be a date (YYYY-MM-DD).", field=field.name), key
            ) from None
    if field.type is FieldType.DROPDOWN and value not in field.options:
        raise ClientError(_("Choose one of the options of %(field)s.", field=field.name), key)
    if field.type is FieldType.CHECKBOX:
        return "1"
    return value


def set_custom_values(client: Client, values: Mapping[int, str], fields: Iterable[CustomField]):
    """Store the values of the given fields (validated), auditing what changed."""
    current = custom_values(client.id)
    cleaned = {field.id: clean_custom_value(field, values.get(field.id, "")) for field in fields}
    names = {field.id: field.name for field in fields}
    before, after = {}, {}
    existing = {
        row.field_id: row
        for row in db.session.scalars(
            select(CustomFieldValue).where(CustomFieldValue.client_id == client.id)
        )
    }
    for field_id, value in cleaned.items():
        if current.get(field_id, "") == value:
            continue
        before[names[field_id]] = current.get(field_id, "")
        after[names[field_id]] = value
        if field_id in existing:
            existing[field_id].value = value
        else:
            db.session.add(CustomFieldValue(client_id=client.id, field_id=field_id, value=value))
    if after:
        audit.record(
            "client.custom_fields",
            "client",
            client.id,
            before=before,
            after=after,
            client_id=client.id,
        )
    db.session.commit()


#: The columns of a custom field its audit entries record.
CUSTOM_FIELD_KEYS = ("name", "type", "required", "client_visible", "options", "sort_order")


@unit_of_work()
def save_custom_field(field: CustomField | None, values: Mapping[str, Any]) -> CustomField:
    """Create a custom client field (``field`` None) or change one, audited.

    ``ClientError`` names the form field at fault: a dropdown without options, a name in use.
    """
    options = [line.strip() for line in (values.get("options") or "").splitlines() if line.strip()]
    if values["type"] == FieldType.DROPDOWN and not options:
        raise ClientError(_("A dropdown needs at least one option."), "options")
    before = audit.snapshot(field, CUSTOM_FIELD_KEYS) if field else None
    field = field or CustomField()
    field.name, field.type = values["name"].strip(), FieldType(values["type"])
    field.required = bool(values.get("required"))
    field.client_visible = bool(values.get("client_visible"))
    field.options, field.sort_order = options, values.get("sort_order") or 0
    db.session.add(field)
    try:
        db.session.flush()
    except IntegrityError:
        raise ClientError(_("A field with this name already exists."), "name") from None
    after = audit.snapshot(field, CUSTOM_FIELD_KEYS)
    audit.record_saved("custom_field", "custom_field", field.id, before, after)
    return field


@unit_of_work()
def create_client_group(name: str, colour: str) -> ClientGroup:
    """A new client group, audited; ``ClientError`` on ``name`` when the name is taken."""
    group = ClientGroup(name=name.strip(), colour=colour)
    db.session.add(group)
    try:
        db.session.flush()
    except IntegrityError:
        raise ClientError(_("A group with this name already exists."), "name") from None
    audit.record(
        "client_group.create",
        "client_group",
        group.id,
        after={"name": group.name, "colour": group.colour},
    )
    return group


# --- staff signed in as a client ----------------------------------------------------------------


@unit_of_work()
def record_login_as(client: Client, staff_id: int) -> None:
    """Log that a staff member opened the client area as ``client`` (the session is the
    caller's business; the log is this one's)."""
    audit.record(
        "client.login_as",
        "client",
        client.id,
        client_id=client.id,
        note=f"staff #{staff_id} at {clock().now().isoformat()}",
    )


@unit_of_work()
def record_login_as_end(client_id: int) -> None:
    """Log that the staff member went back from the client area to the admin area."""
    audit.record("client.login_as_end", "client", client_id, client_id=client_id)
