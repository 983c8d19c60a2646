"""tblusers + tblusers_clients -> the owner's sign-in password on the client; other users as
contacts.

WHMCS 8 separates sign-in users from client accounts: one user may reach several clients, and
one client may have several users, one of them the owner. In the portal the client *is* the
sign-in account (its e-mail and password), and contacts do not sign in. So:

- the owner user's password hash goes onto the client, as ``whmcs$`` followed by WHMCS's hash
  string unchanged (bcrypt ``$2y$...``, or the legacy MD5 / ``hash:salt`` / HMAC forms). It fits
  the ``password_hash`` column (255). Until the client signs in, ``check_password`` (argon2)
  refuses it; ``portal.accounts.legacy_passwords`` recognises the prefix, verifies the
  password the WHMCS way and replaces the hash with an argon2 one on that first sign-in. The
  client keeps the e-mail of tblclients (where WHMCS sends its mail); when the owner signed in
  with another address, the report says so.
- every other user of the client becomes one of its contacts (no sign-in of their own).
"""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts import audit
from portal.accounts.models import Client, Contact
from portal.accounts.models.account import normalise_email
from portal.core.extensions import db
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.steps.clients import WHMCS_HASH_PREFIX
from portal.imports.whmcs.values import NO_PASSWORD, fit, language, moment

TABLE = "tblusers_clients"
SELECT = (
    "SELECT uc.id, uc.client_id, uc.owner, uc.updated_at, u.id AS user_id, u.first_name,"
    " u.last_name, u.email, u.password, u.language, u.last_login, u.updated_at AS user_updated"
    " FROM tblusers_clients uc JOIN tblusers u ON u.id = uc.auth_user_id"
)


def run(ctx: ImportContext) -> None:
    for row in ctx.rows(
        TABLE, select=SELECT, changed=("uc.updated_at", "u.updated_at"), order_by="uc.id"
    ):
        client_id = ctx.mappings.target_id("tblclients", row["client_id"])
        if row["owner"]:
            ctx.sync(
                TABLE,
                row,
                target_table="client",
                write=lambda existing, row=row, client_id=client_id: _owner(ctx, row, client_id),
            )
        else:
            ctx.sync(
                TABLE,
                row,
                target_table="contact",
                write=lambda existing, row=row, client_id=client_id: _contact(
                    ctx, row, client_id, existing
                ),
                exists=lambda target: db.session.get(Contact, target) is not None,
            )


def _client(row: dict, client_id: int | None) -> Client:
    client = db.session.get(Client, client_id) if client_id is not None else None
    if client is None:
        raise Refused(f"its client #{row['client_id']} was not imported")
    return client


def _owner(ctx: ImportContext, row: dict, client_id: int | None) -> int:
    client = _client(row, client_id)
    password = str(row["password"] or "")
    if password and (
        client.password_hash == NO_PASSWORD or client.password_hash.startswith(WHMCS_HASH_PREFIX)
    ):
        # Only a hash we put there is replaced: once the client has signed in (argon2) or
        # set a password in the portal, theirs stays.
        client.set_password_hash(WHMCS_HASH_PREFIX + password)
    client.language = language(row["language"]) or client.language
    if row["last_login"] is not None:
        client.last_login_at = moment(ctx, row["last_login"])
    email = normalise_email(str(row["email"] or ""))
    if email and email != client.email:
        ctx.report.refused_value(
            TABLE,
            row["id"],
            "email",
            f"the owner signed in to WHMCS as {email}; in the portal the client signs in as "
            f"{client.email} (the client's e-mail)",
        )
    audit.record(
        "client.import_password",
        "client",
        client.id,
        client_id=client.id,
        note=f"WHMCS user #{row['user_id']} (owner)",
        system="whmcs import",
    )
    return client.id


def _contact(ctx: ImportContext, row: dict, client_id: int | None, existing: int | None) -> int:
    client = _client(row, client_id)
    email = normalise_email(str(row["email"] or ""))
    contact = db.session.get(Contact, existing) if existing else None
    if contact is None:
        contact = db.session.scalar(
            select(Contact).where(Contact.client_id == client.id, Contact.email == email)
        )
    if contact is None:
        contact = Contact(client_id=client.id, created_at=ctx.now, roles=[], receives=[])
        db.session.add(contact)
    contact.client_id = client.id
    contact.email = fit(ctx, TABLE, row["id"], "email", email, 254)
    contact.first_name = fit(ctx, TABLE, row["id"], "first_name", row["first_name"], 100) or email
    contact.last_name = fit(ctx, TABLE, row["id"], "last_name", row["last_name"], 100)
    db.session.flush()
    audit.record(
        "contact.import",
        "contact",
        contact.id,
        client_id=client.id,
        note=f"WHMCS user #{row['user_id']}",
        system="whmcs import",
    )
    return contact.id
