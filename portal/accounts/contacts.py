"""Contacts of a client, managed by staff or by the client themselves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts import audit
from portal.accounts.models import Client
from portal.accounts.models.account import normalise_email
from portal.accounts.models.contact import Contact, ContactRole
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.messaging.sources import MailKind
from portal.web.paging import Page, keyset_page

CONTACT_FIELDS = ("first_name", "last_name", "position", "email", "phone", "roles", "receives")


class ContactError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _clean(client_id: int, values: Mapping[str, Any], exclude_id: int | None) -> dict[str, Any]:
    data = {key: values[key] for key in CONTACT_FIELDS if key in values}
    data["email"] = normalise_email(data.get("email", ""))
    data["roles"] = sorted({ContactRole(role).value for role in data.get("roles", [])})
    data["receives"] = sorted({MailKind(kind).value for kind in data.get("receives", [])})
    stmt = select(Contact.id).where(Contact.client_id == client_id, Contact.email == data["email"])
    if exclude_id is not None:
        stmt = stmt.where(Contact.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise ContactError(_("This client already has a contact with this e-mail."), "email")
    return data


def client_contacts(client_id: int) -> Page:
    """A page of the client's contacts by first name (the client card's tab and the client
    area's list; a keyset page read from ``ix_contact_client_first_name``, docs/performance.md)."""
    return keyset_page(
        select(Contact).where(Contact.client_id == client_id),
        sort=Contact.first_name,
        id_column=Contact.id,
        descending=False,
    )


def add_contact(client: Client, values: Mapping[str, Any]) -> Contact:
    data = _clean(client.id, values, None)
    contact = Contact(client_id=client.id, created_at=clock().now(), **data)
    db.session.add(contact)
    db.session.flush()
    if ContactRole.BILLING.value in data["roles"] and client.billing_contact_id is None:
        client.billing_contact_id = contact.id
    audit.record("contact.create", "contact", contact.id, after=data, client_id=client.id)
    db.session.commit()
    return contact


def update_contact(contact: Contact, values: Mapping[str, Any]) -> None:
    data = _clean(contact.client_id, values, contact.id)
    before = audit.snapshot(contact, CONTACT_FIELDS)
    for key, value in data.items():
        setattr(contact, key, value)
    changed_before, changed_after = audit.diff(before, audit.snapshot(contact, CONTACT_FIELDS))
    if changed_after:
        audit.record(
            "contact.update",
            "contact",
            contact.id,
            before=changed_before,
            after=changed_after,
            client_id=contact.client_id,
        )
    db.session.commit()


def remove_contact(contact: Contact) -> None:
    client = db.session.get(Client, contact.client_id)
    if client is not None and client.billing_contact_id == contact.id:
        client.billing_contact_id = None
    audit.record(
        "contact.delete",
        "contact",
        contact.id,
        before=audit.snapshot(contact, CONTACT_FIELDS),
        client_id=contact.client_id,
    )
    db.session.delete(contact)
    db.session.commit()


def recipients(client: Client, kind: MailKind) -> list[str]:
    """The client's e-mail plus every active contact who opted into this kind of letter."""
    return recipients_of([client], kind)[client.id]


def recipients_of(clients: Sequence[Client], kind: MailKind) -> dict[int, list[str]]:
    """:func:`recipients` of many clients in one query (the billing run's invoice mails)."""
    found = {client.id: [client.email] for client in clients}
    contacts = db.session.scalars(
        select(Contact)
        .where(Contact.client_id.in_(list(found)), Contact.is_active.is_(True))
        .order_by(Contact.id)
    )
    for contact in contacts:
        addresses = found[contact.client_id]
        if kind.value in contact.receives and contact.email not in addresses:
            addresses.append(contact.email)
    return found
