"""tblclients -> clients, with their legal details (ИНН/КПП) and WHMCS's per-client flags.

- A client with a company name is a legal entity (a sole proprietor when its ИНН has 12
  digits); one without is a private person.
- The ИНН comes from a client custom field named like ``ИНН``/``INN`` (``ImportOptions``), else
  from WHMCS's own ``tax_id``; the КПП from a field named like ``КПП``/``KPP``. Each is checked
  as the client card checks it (python-stdnum); an invalid one is reported as a refused value,
  the client is imported without it and the raw value is written into the client's admin notes
  (and stays in the imported custom field), so nothing is lost.
- ``password`` (WHMCS before 8 kept the sign-in hash here) is kept as ``whmcs$<hash>``; the
  users step replaces it with the owner user's hash (see users.py for the format).
- Clients are written directly, with an audit entry, not through ``create_client``: that
  service commits, queues the welcome mail on request and fires ``client_created`` (plugins
  may provision or mail on it). An import must not mail anybody.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from portal.accounts import audit
from portal.accounts.models import Client, ClientStatus
from portal.accounts.models.account import normalise_email
from portal.accounts.requisites import LegalType, RequisiteError, clean_inn, clean_kpp
from portal.catalog.currencies import default_currency
from portal.core.extensions import db
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.steps.currencies import codes
from portal.imports.whmcs.values import NO_PASSWORD, fit, flag, language, moment

TABLE = "tblclients"
#: The hash prefix that marks a password hash kept from WHMCS (verified and replaced by an
#: argon2 hash on the client's first sign-in, portal.accounts.legacy_passwords).
WHMCS_HASH_PREFIX = "whmcs$"
STATUSES = {"active": ClientStatus.ACTIVE, "inactive": ClientStatus.INACTIVE}


def run(ctx: ImportContext) -> None:
    fields = requisite_fields(ctx)
    requisites = _requisite_values(ctx, fields)
    for row in ctx.rows(
        TABLE, changed=("updated_at", "created_at"), also=_requisites_changed(fields)
    ):
        found = requisites.get(row["id"], {})
        ctx.sync(
            TABLE,
            row,
            target_table="client",
            write=lambda existing, row=row, found=found: _write(ctx, row, found, existing),
            extra=[found.get("inn"), found.get("kpp")],
            exists=lambda target: db.session.get(Client, target) is not None,
        )


def totals(ctx: ImportContext) -> None:
    ctx.report.source.count("clients", int(ctx.source.scalar("SELECT COUNT(*) FROM tblclients")))
    # The clients the mapping knows that are still in the portal (staff may delete some).
    imported = select(func.count()).where(Client.id.in_(ctx.mappings.targets(TABLE)))
    ctx.report.imported.count("clients", db.session.scalar(imported) or 0)


def _matches(name: str, wanted: tuple[str, ...] | list[str]) -> bool:
    """WHMCS field names may read ``internal|Shown name``: any part may match."""
    parts = {part.strip().lower() for part in re.split(r"[|/]", name or "")} | {
        (name or "").strip().lower()
    }
    return any(candidate.strip().lower() in parts for candidate in wanted)


def requisite_fields(ctx: ImportContext) -> dict[int, str]:
    """WHMCS client custom field id -> "inn" or "kpp", for fields holding them."""
    found: dict[int, str] = {}
    for row in ctx.source.query(
        "SELECT id, fieldname FROM tblcustomfields WHERE type = 'client' ORDER BY sortorder, id"
    ):
        if _matches(row["fieldname"], list(ctx.options.inn_fields)):
            found[row["id"]] = "inn"
        elif _matches(row["fieldname"], list(ctx.options.kpp_fields)):
            found[row["id"]] = "kpp"
    return found


def _requisites_changed(fields: dict[int, str]) -> str | None:
    """With ``--since``: a client whose ИНН or КПП custom value changed is read again too."""
    if not fields:
        return None
    marks = ", ".join(str(int(field_id)) for field_id in fields)
    return (
        "id IN (SELECT relid FROM tblcustomfieldsvalues"  # noqa: S608 (integers)
        f" WHERE fieldid IN ({marks}) AND (updated_at >= :since OR created_at >= :since))"
    )


def _requisite_values(ctx: ImportContext, fields: dict[int, str]) -> dict[int, dict[str, str]]:
    """WHMCS client id -> {"inn": ..., "kpp": ...} from the custom fields that hold them (two
    short values per client at most: small enough to hold for the run)."""
    values: dict[int, dict[str, str]] = {}
    if not fields:
        return values
    marks = ", ".join(str(int(field_id)) for field_id in fields)
    for row in ctx.source.query(
        f"SELECT fieldid, relid, value FROM tblcustomfieldsvalues WHERE fieldid IN ({marks})"  # noqa: S608
    ):
        value = str(row["value"] or "").strip()
        if value:
            values.setdefault(row["relid"], {}).setdefault(fields[row["fieldid"]], value)
    return values


def _legal_type(company: str, inn: str) -> LegalType:
    if not company:
        return LegalType.INDIVIDUAL
    digits = re.sub(r"\s", "", inn)
    return LegalType.SOLE_PROPRIETOR if len(digits) == 12 else LegalType.LEGAL_ENTITY


def _write(ctx: ImportContext, row: dict[str, Any], found: dict[str, str], existing: int | None):
    source_id = row["id"]
    email = normalise_email(str(row["email"] or ""))
    if not email:
        raise Refused("no e-mail: clients sign in to the portal with their e-mail")
    taken = db.session.scalar(select(Client.id).where(Client.email == email))
    if taken is not None and taken != existing:
        raise Refused(f"e-mail {email} is already used by client #{taken} in the portal")
    status_text = str(row["status"] or "").strip().lower()
    currency = codes(ctx).get(row["currency"]) or default_currency()

    client = db.session.get(Client, existing) if existing else None
    before = audit.snapshot(client, AUDITED) if client is not None else None
    if client is None:
        client = Client(
            email=email,
            password_hash=NO_PASSWORD,
            created_at=moment(ctx, row["datecreated"]) or ctx.now,
        )
        db.session.add(client)
    client.email = email
    if row["password"] and client.password_hash == NO_PASSWORD:
        client.password_hash = WHMCS_HASH_PREFIX + str(row["password"])
    client.first_name = fit(ctx, TABLE, source_id, "firstname", row["firstname"], 100)
    client.last_name = fit(ctx, TABLE, source_id, "lastname", row["lastname"], 100)
    client.company = fit(ctx, TABLE, source_id, "companyname", row["companyname"], 255)
    client.phone = fit(ctx, TABLE, source_id, "phonenumber", row["phonenumber"], 50)
    address = ", ".join(
        part
        for part in (str(row["address1"] or "").strip(), str(row["address2"] or "").strip())
        if part
    )
    client.address = fit(ctx, TABLE, source_id, "address1", address, 255)
    client.city = fit(ctx, TABLE, source_id, "city", row["city"], 100)
    client.region = fit(ctx, TABLE, source_id, "state", row["state"], 100)
    client.postcode = fit(ctx, TABLE, source_id, "postcode", row["postcode"], 20)
    country = str(row["country"] or "").strip().upper()
    client.country = country if len(country) == 2 else "RU"
    client.currency = currency
    client.status = STATUSES.get(status_text, ClientStatus.CLOSED)
    closed = client.status is ClientStatus.CLOSED
    client.closed_at = (client.closed_at or ctx.now) if closed else None
    # The owner user's language (users step) stands when the client row names none.
    client.language = language(row["language"]) or client.language
    client.tax_exempt = flag(row["taxexempt"])
    client.no_late_fees = flag(row["latefeeoveride"])
    client.no_overdue_notices = flag(row["overideduenotices"])
    client.separate_invoices = flag(row["separateinvoices"])
    if row["lastlogin"] is not None:
        client.last_login_at = moment(ctx, row["lastlogin"])

    remarks = _requisites(ctx, client, row, found)
    notes = str(row["notes"] or "").strip()
    client.admin_notes = "\n\n".join(part for part in (notes, *remarks) if part)
    db.session.flush()
    after = audit.snapshot(client, AUDITED)
    audit.record_saved(
        "client.import",
        "client",
        client.id,
        before,
        after,
        client_id=client.id,
        note=f"WHMCS client #{source_id}",
        system="whmcs import",
    )
    return client.id


#: The client's columns an import audit entry records.
AUDITED = [
    "email",
    "first_name",
    "last_name",
    "company",
    "phone",
    "address",
    "city",
    "region",
    "postcode",
    "country",
    "currency",
    "status",
    "language",
    "legal_type",
    "inn",
    "kpp",
    "tax_exempt",
    "no_late_fees",
    "no_overdue_notices",
    "separate_invoices",
]


def _requisites(ctx: ImportContext, client: Client, row: dict, found: dict[str, str]) -> list[str]:
    """Set the legal type, ИНН and КПП; the remarks for the admin notes about refused values."""
    raw_inn = found.get("inn") or str(row.get("tax_id") or "").strip()
    raw_kpp = found.get("kpp", "")
    company = client.company
    legal_type = _legal_type(company, raw_inn)
    client.legal_type = legal_type
    remarks = []
    client.inn = ""
    if raw_inn:
        try:
            client.inn = clean_inn(raw_inn, legal_type)
        except RequisiteError as exc:
            reason = f"invalid ИНН {raw_inn!r} ({exc.code}): not imported, kept in the notes"
            ctx.report.refused_value(TABLE, row["id"], "ИНН", reason)
            remarks.append(
                f"WHMCS: INN '{raw_inn}' was not imported: it fails the check ({exc.code})."
            )
    client.kpp = ""
    if raw_kpp:
        if legal_type is not LegalType.LEGAL_ENTITY:
            ctx.report.refused_value(
                TABLE, row["id"], "КПП", f"КПП {raw_kpp!r} on a client that is no company"
            )
            remarks.append(f"WHMCS: KPP '{raw_kpp}' was not imported: the client is no company.")
        else:
            try:
                client.kpp = clean_kpp(raw_kpp)
            except RequisiteError as exc:
                ctx.report.refused_value(
                    TABLE, row["id"], "КПП", f"invalid КПП {raw_kpp!r} ({exc.code})"
                )
                remarks.append(
                    f"WHMCS: KPP '{raw_kpp}' was not imported: it fails the check ({exc.code})."
                )
    return remarks
