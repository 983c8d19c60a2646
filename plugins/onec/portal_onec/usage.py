"""Use of the information bases, as the 1C cloud exports it: who logged in to which base, when,
and how many sessions. It tells inactive clients apart (``portal_onec.inactive``).

An export is JSON or CSV, one record per base, login and moment:

* JSON: a list of objects (or ``{"sessions": [...]}``) with ``base`` (the base's id in the
  portal, or its name), ``login``, ``time`` (ISO 8601; a time without an offset is UTC; a date
  alone is midnight) and ``sessions`` (default 1);
* CSV (UTF-8, a BOM allowed, ``;`` or ``,``): a header naming the same columns
  (``base;login;time;sessions``; also ``base_id``, ``user``, ``datetime``).

A base is found by its id, else by its name (refused when two organisations have a base of
that name). Records are summed per base, login and day; a day already stored keeps the larger
figures, so importing the same export twice changes nothing. Each service then gets its last
use: a tariff or a base product through the bases it holds, a licence through the bases of its
organisation.

``portal onec import-usage FILE`` imports a file; the ``onec.usage`` job reads the export of the
cloud's exports from the plugin setting ``usage_source``: a folder (every ``*.json`` and
``*.csv`` in it; a file read before changes nothing) or an ``http(s)://`` URL.
"""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import click
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.plugin_api import plugin_settings, session
from portal_onec.models import InformationBase, Licence
from portal_onec.renewal_models import BaseUsage, ServiceUse

PLUGIN = "onec"
COLUMNS = {
    "base": ("base", "base_id", "база"),
    "login": ("login", "user", "пользователь"),
    "time": ("time", "datetime", "date", "время", "дата"),
    "sessions": ("sessions", "сеансы", "сеансов"),
}
#: An URL export is read with this timeout, in seconds.
FETCH_TIMEOUT = 60


class UsageFormatError(ValueError):
    """A file that cannot be read as a usage export; the message says where."""


@dataclass(frozen=True)
class UsageRecord:
    line: int
    base: str
    login: str
    at: datetime
    sessions: int


@dataclass
class ImportResult:
    records: int = 0
    stored: int = 0
    services: int = 0
    skipped: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "records": self.records,
            "days_stored": self.stored,
            "services": self.services,
            "skipped": len(self.skipped),
        }


# --- reading the files ----------------------------------------------------------------------------


def _moment(text: str, line: int) -> datetime:
    value = (text or "").strip()
    for parse in (datetime.fromisoformat, lambda v: datetime.strptime(v, "%d.%m.%Y %H:%M:%S")):
        try:
            moment = parse(value)
            break
        except ValueError:
            continue
    else:
        for pattern in ("%d.%m.%Y %H:%M", "%d.%m.%Y"):
            try:
                moment = datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
        else:
            raise UsageFormatError(
                _("Line %(line)s: %(value)s is not a date and time.", line=line, value=value)
            )
    if isinstance(moment, date) and not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _sessions(value: Any, line: int) -> int:
    if value is None or value == "":
        return 1
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise UsageFormatError(
            _("Line %(line)s: %(value)s is not a number of sessions.", line=line, value=text)
        )
    return int(text)


def _record(row: dict[str, Any], line: int) -> UsageRecord:
    found: dict[str, Any] = {}
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    for name, aliases in COLUMNS.items():
        found[name] = next((lowered[a] for a in aliases if a in lowered), None)
    base, login = str(found["base"] or "").strip(), str(found["login"] or "").strip()
    if not base or not login or found["time"] in (None, ""):
        raise UsageFormatError(
            _("Line %(line)s: a record needs a base, a login and a time.", line=line)
        )
    return UsageRecord(
        line, base, login, _moment(str(found["time"]), line), _sessions(found["sessions"], line)
    )


def read_export(data: bytes) -> list[UsageRecord]:
    """The records of a JSON or CSV export. Raises :class:`UsageFormatError`."""
    text = data.decode("utf-8-sig", errors="strict") if data else ""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise UsageFormatError(
                _("The JSON cannot be read: %(error)s", error=error.msg)
            ) from None
        items = parsed.get("sessions", []) if isinstance(parsed, dict) else parsed
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise UsageFormatError(_("The JSON must be a list of records."))
        return [_record(item, number) for number, item in enumerate(items, start=1)]
    lines = text.splitlines()
    if not lines:
        return []
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return [
        _record(row, reader.line_num)
        for row in reader
        if any((v or "").strip() for v in row.values() if isinstance(v, str))
    ]


# --- storing ------------------------------------------------------------------------------------


def _bases(records: Iterable[UsageRecord]) -> tuple[dict[str, InformationBase], dict[str, str]]:
    """The bases the records name, by the text used; and why a name was not found."""
    names = {r.base for r in records}
    ids = {int(n) for n in names if n.isascii() and n.isdigit() and len(n) < 10}
    found: dict[str, InformationBase] = {}
    problems: dict[str, str] = {}
    if ids:
        for base in session().scalars(select(InformationBase).where(InformationBase.id.in_(ids))):
            found[str(base.id)] = base
    by_name: dict[str, list[InformationBase]] = {}
    rest = [n for n in names if n not in found]
    if rest:
        for base in session().scalars(
            select(InformationBase).where(InformationBase.name.in_(rest))
        ):
            by_name.setdefault(base.name, []).append(base)
    for name in rest:
        candidates = by_name.get(name, [])
        if len(candidates) == 1:
            found[name] = candidates[0]
        elif candidates:
            problems[name] = _("%(base)s: several bases have this name; use its id.", base=name)
        else:
            problems[name] = _("%(base)s: no such base.", base=name)
    return found, problems


def store(records: list[UsageRecord]) -> ImportResult:
    """Store the records (per base, login and day, the larger figures kept) and the last use
    of the services they concern. Commits."""
    result = ImportResult(records=len(records))
    bases, problems = _bases(records)
    days: dict[tuple[int, str, date], tuple[int, datetime]] = {}
    for record in records:
        base = bases.get(record.base)
        if base is None:
            result.skipped.append(
                _("Line %(line)s: %(problem)s", line=record.line, problem=problems[record.base])
            )
            continue
        key = (base.id, record.login, record.at.date())
        sessions, seen = days.get(key, (0, record.at))
        days[key] = (sessions + record.sessions, max(seen, record.at))
    last_by_base: dict[int, datetime] = {}
    for (base_id, login, day), (sessions, seen) in sorted(days.items()):
        row = session().scalar(
            select(BaseUsage).where(
                BaseUsage.base_id == base_id, BaseUsage.login == login, BaseUsage.day == day
            )
        )
        if row is None:
            session().add(
                BaseUsage(
                    base_id=base_id, login=login, day=day, sessions=sessions, last_seen_at=seen
                )
            )
            result.stored += 1
        else:
            row.sessions = max(row.sessions, sessions)
            row.last_seen_at = max(_aware(row.last_seen_at), seen)
        last_by_base[base_id] = max(last_by_base.get(base_id, seen), seen)
    result.services = _note_service_use({base.id: base for base in bases.values()}, last_by_base)
    session().commit()
    return result


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _note_service_use(bases: dict[int, InformationBase], last: dict[int, datetime]) -> int:
    """Move each concerned service's last use forward: a base's own service, and the licences
    of the base's organisation."""
    moments: dict[int, datetime] = {}

    def note(service_id: int | None, moment: datetime) -> None:
        if service_id is not None:
            moments[service_id] = max(moments.get(service_id, moment), moment)

    organisations: dict[int, datetime] = {}
    for base_id, moment in last.items():
        base = bases[base_id]
        note(base.service_id, moment)
        org = base.organisation_id
        organisations[org] = max(organisations.get(org, moment), moment)
    if organisations:
        licences = session().execute(
            select(Licence.service_id, Licence.organisation_id).where(
                Licence.organisation_id.in_(organisations)
            )
        )
        for service_id, organisation_id in licences:
            note(service_id, organisations[organisation_id])
    for service_id, moment in moments.items():
        use = session().get(ServiceUse, service_id)
        if use is None:
            session().add(ServiceUse(service_id=service_id, last_used_at=moment))
        else:
            use.last_used_at = max(_aware(use.last_used_at), moment)
    return len(moments)


def import_data(data: bytes) -> ImportResult:
    """Read and store an export. Raises :class:`UsageFormatError` for a broken file (nothing is
    stored then). Commits."""
    return store(read_export(data))


def last_use(service_id: int) -> datetime | None:
    return session().scalar(
        select(ServiceUse.last_used_at).where(ServiceUse.service_id == service_id)
    )


def peak_sessions(base_id: int, start: date, end: date) -> int:
    """The largest number of sessions of one day at a base in [start, end) (summed over its
    logins): what an overage on sessions is measured by."""
    per_day = (
        select(func.sum(BaseUsage.sessions).label("total"))
        .where(BaseUsage.base_id == base_id, BaseUsage.day >= start, BaseUsage.day < end)
        .group_by(BaseUsage.day)
        .subquery()
    )
    return session().scalar(select(func.max(per_day.c.total))) or 0


# --- the job and the command ----------------------------------------------------------------------


def _sources(source: str) -> Iterator[tuple[str, bytes]]:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=FETCH_TIMEOUT) as answer:  # noqa: S310
            yield source, answer.read()
        return
    folder = Path(source)
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.suffix.lower() in (".json", ".csv") and path.is_file():
            yield str(path), path.read_bytes()


def collect_daily(as_of: date) -> dict[str, int]:
    """The ``onec.usage`` job: import every export at the ``usage_source`` setting (a folder or
    a URL; nothing when empty). A broken file is counted and skipped; the others are read."""
    source = str(plugin_settings(PLUGIN).get("usage_source") or "").strip()
    totals = {"files": 0, "broken": 0, "records": 0, "days_stored": 0, "services": 0, "skipped": 0}
    if not source:
        return totals
    for _name, data in _sources(source):
        totals["files"] += 1
        try:
            counts = import_data(data).counts()
        except UsageFormatError:
            session().rollback()
            totals["broken"] += 1
            continue
        for key, value in counts.items():
            totals[key] += value
    return totals


@click.group("onec")
def onec_cli() -> None:
    """The 1C cloud module."""


@onec_cli.command("import-usage")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def import_usage_command(files: tuple[str, ...]) -> None:
    """Import the cloud's usage exports (JSON or CSV) of sessions and logins per base."""
    failed = False
    for name in files:
        try:
            result = import_data(Path(name).read_bytes())
        except (UsageFormatError, UnicodeDecodeError) as error:
            session().rollback()
            click.echo(f"{name}: {error}", err=True)
            failed = True
            continue
        click.echo(
            _(
                "%(file)s: %(records)s records, %(days)s new days of use, %(services)s services",
                file=name,
                records=result.records,
                days=result.stored,
                services=result.services,
            )
        )
        for problem in result.skipped:
            click.echo(f"  {problem}", err=True)
    if failed:
        raise SystemExit(1)
