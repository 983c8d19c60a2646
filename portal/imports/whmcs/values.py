"""Turning WHMCS values into the portal's: times, flags, languages, text that fits its column.

WHMCS keeps local times without a zone (those of its server); they are read in the import's
``source_timezone`` (the portal's ``default_timezone`` unless told otherwise) and stored in UTC.
WHMCS's "on"/"" flags and 0/1 integers both become booleans.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from portal.imports.whmcs.context import ImportContext

#: The password hash of imported accounts that have none yet: it matches no password (argon2
#: refuses it), so the account signs in only after a password is set or reset.
NO_PASSWORD = "!imported-without-password"  # noqa: S105 (not a password: an unusable hash)

#: WHMCS language names (its lang/*.php files) -> the portal's locales.
LANGUAGES = {"russian": "ru", "english": "en"}


def flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"on", "1", "yes", "true"}
    return bool(value)


def language(value: object) -> str | None:
    return LANGUAGES.get(str(value or "").strip().lower())


def moment(ctx: ImportContext, value: datetime | date | None) -> datetime | None:
    """A WHMCS local date or datetime as an aware UTC datetime (None stays None)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    zone = ZoneInfo(ctx.options.source_timezone) if ctx.options.source_timezone else UTC
    return value.replace(tzinfo=zone).astimezone(UTC)


def fit(
    ctx: ImportContext, table: str, source_id: object, column: str, value: object, limit: int
) -> str:
    """``value`` as text cut to the portal column's ``limit``; a cut is reported, not hidden."""
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        ctx.report.refused_value(
            table, source_id, column, f"longer than {limit} characters: cut to fit"
        )
        text = text[:limit]
    return text
