"""tblcontacts -> the client's contacts, with the kinds of mail they chose to receive; the
contact WHMCS bills (``tblclients.billingcid``) becomes the client's billing contact.

WHMCS sub-account passwords and permissions are not carried over: portal contacts do not sign
in (the people who did are WHMCS 8 users, see users.py).
"""

from __future__ import annotations

from portal.accounts import audit
from portal.accounts.models import Client, Contact, ContactRole
from portal.accounts.models.account import normalise_email
from portal.core.extensions import db
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.values import fit, flag
from portal.messaging.sources import MailKind

TABLE = "tblcontacts"
#: WHMCS's e-mail preference columns -> the portal's kinds of mail.
RECEIVES = {
    "generalemails": MailKind.GENERAL,
    "invoiceemails": MailKind.INVOICES,
    "supportemails": MailKind.SUPPORT,
    "productemails": MailKind.SERVICES,
}


def run(ctx: ImportContext) -> None:
    for row in ctx.rows(TABLE, changed=("updated_at", "created_at")):
        ctx.sync(
            TABLE,
            row,
            target_table="contact",
            write=lambda existing, row=row: _write(ctx, row, existing),
            exists=lambda target: db.session.get(Contact, target) is not None,
        )
    _billing_contacts(ctx)


def _write(ctx: ImportContext, row: dict, existing: int | None) -> int:
    client_id = ctx.mappings.target_id("tblclients", row["userid"])
    if client_id is None or db.session.get(Client, client_id) is None:
        raise Refused(f"its client #{row['userid']} was not imported")
    contact = db.session.get(Contact, existing) if existing else None
    if contact is None:
        contact = Contact(client_id=client_id, created_at=ctx.now, roles=[])
        db.session.add(contact)
    source_id = row["id"]
    email = normalise_email(str(row["email"] or ""))
    contact.client_id = client_id
    contact.email = fit(ctx, TABLE, source_id, "email", email, 254)
    contact.first_name = (
        fit(ctx, TABLE, source_id, "firstname", row["firstname"], 100) or email or "—"
    )
    contact.last_name = fit(ctx, TABLE, source_id, "lastname", row["lastname"], 100)
    contact.phone = fit(ctx, TABLE, source_id, "phonenumber", row["phonenumber"], 50)
    contact.position = fit(ctx, TABLE, source_id, "companyname", row["companyname"], 100)
    contact.receives = [kind.value for column, kind in RECEIVES.items() if flag(row[column])]
    if flag(row["invoiceemails"]) and ContactRole.BILLING.value not in (contact.roles or []):
        contact.roles = [*(contact.roles or []), ContactRole.BILLING.value]
    db.session.flush()
    audit.record(
        "contact.import",
        "contact",
        contact.id,
        client_id=client_id,
        note=f"WHMCS contact #{source_id}",
        system="whmcs import",
    )
    return contact.id


def _billing_contacts(ctx: ImportContext) -> None:
    """Clients whose WHMCS billing contact is one of the imported contacts."""
    for row in ctx.source.query("SELECT id, billingcid FROM tblclients WHERE billingcid <> 0"):
        client_id = ctx.mappings.target_id("tblclients", row["id"])
        contact_id = ctx.mappings.target_id(TABLE, row["billingcid"])
        client = db.session.get(Client, client_id) if client_id is not None else None
        if (
            client is not None
            and contact_id is not None
            and client.billing_contact_id != contact_id
        ):
            client.billing_contact_id = contact_id
