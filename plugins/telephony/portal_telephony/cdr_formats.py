"""CDR file formats: Asterisk ``Master.csv``, FreeSWITCH ``cdr_csv`` and a generic CSV with a
column mapping (plugins/telephony/README.md, "CDR import"). Pure and streaming: each parser
reads a text stream row by row and yields a :class:`Cdr` or a :class:`BadRow`, so a 1 GB file
is never held in memory and a broken row becomes a reject with its reason instead of an
exception that loses the rest of the file.

A call's identity (``call_id``) makes an import idempotent: the PBX's unique id when the row
has one (Asterisk ``uniqueid``, FreeSWITCH ``uuid``), else a SHA-256 of the row's fields, and
always prefixed with the source (the PBX) so two PBXs' ids never collide.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TextIO

ASTERISK_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
)

#: The columns of FreeSWITCH's ``cdr_csv`` "default" template.
FREESWITCH_COLUMNS = (
    "caller_id_name",
    "caller_id_number",
    "destination_number",
    "context",
    "start_stamp",
    "answer_stamp",
    "end_stamp",
    "duration",
    "billsec",
    "hangup_cause",
    "uuid",
    "bleg_uuid",
    "accountcode",
    "read_codec",
    "write_codec",
)

#: Generic CSV: the fields a mapping may name (field -> the file's column heading).
GENERIC_FIELDS = ("call_id", "account", "src", "dst", "start", "billsec", "disposition")

FORMATS = ("asterisk", "freeswitch", "generic")


@dataclass(frozen=True, slots=True)
class Cdr:
    """One call as the PBX reported it: ``start`` aware UTC, ``billsec`` talk seconds."""

    call_id: str
    account: str
    src: str
    dst: str
    start: datetime
    billsec: int
    answered: bool
    raw: str


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that is not a call record; ``reason`` is a rejects-queue code."""

    call_id: str
    reason: str
    raw: str
    line: int


def row_digest(source: str, fields: Iterable[str]) -> str:
    joined = "\x1f".join(field.strip() for field in fields)
    return f"{source}:sha256:" + hashlib.sha256(joined.encode()).hexdigest()


def parse_moment(text: str, zone: tzinfo) -> datetime:
    """``2026-12-04 10:00:00`` (the PBX's wall clock in ``zone``), ISO 8601 with an offset, or
    epoch seconds (FreeSWITCH ``*_epoch``); aware UTC."""
    text = text.strip()
    if text.replace(".", "", 1).isdigit() and len(text) >= 9:
        return datetime.fromtimestamp(float(text), UTC)
    moment = datetime.fromisoformat(text.replace("T", " "))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _cdr(
    source: str,
    unique: str,
    values: list[str],
    account: str,
    src: str,
    dst: str,
    start: str,
    billsec: str,
    disposition: str,
    zone: tzinfo,
    line: int,
) -> Cdr | BadRow:
    raw = ",".join(values)
    call_id = f"{source}:{unique.strip()}" if unique.strip() else row_digest(source, values)
    try:
        moment = parse_moment(start, zone)
    except ValueError:
        return BadRow(call_id, "bad_date", raw, line)
    try:
        seconds = int(billsec.strip() or "0")
    except ValueError:
        return BadRow(call_id, "bad_duration", raw, line)
    if seconds < 0:
        return BadRow(call_id, "negative_duration", raw, line)
    answered = disposition.strip().upper() in ("ANSWERED", "NORMAL_CLEARING", "ANSWER", "")
    return Cdr(call_id, account.strip(), src.strip(), dst.strip(), moment, seconds, answered, raw)


def parse_asterisk(stream: TextIO, *, source: str, zone: tzinfo = UTC) -> Iterator[Cdr | BadRow]:
    """Asterisk ``cdr_csv`` (``Master.csv``): no header, 16 columns, then optional
    ``uniqueid`` and ``userfield``."""
    for line, values in enumerate(csv.reader(stream), start=1):
        if not values:
            continue
        if len(values) < 16:
            yield BadRow(row_digest(source, values), "bad_row", ",".join(values), line)
            continue
        row = dict(zip(ASTERISK_COLUMNS, values, strict=False))
        yield _cdr(
            source,
            row.get("uniqueid", ""),
            values,
            row["accountcode"],
            row["src"],
            row["dst"],
            row["start"],
            row["billsec"],
            row["disposition"],
            zone,
            line,
        )


def parse_freeswitch(stream: TextIO, *, source: str, zone: tzinfo = UTC) -> Iterator[Cdr | BadRow]:
    """FreeSWITCH ``cdr_csv`` with the "default" template (no header, 15 columns)."""
    for line, values in enumerate(csv.reader(stream), start=1):
        if not values:
            continue
        if len(values) < 11:
            yield BadRow(row_digest(source, values), "bad_row", ",".join(values), line)
            continue
        row = dict(zip(FREESWITCH_COLUMNS, values, strict=False))
        yield _cdr(
            source,
            row["uuid"],
            values,
            row.get("accountcode", ""),
            row["caller_id_number"],
            row["destination_number"],
            row["start_stamp"],
            row["billsec"],
            row["hangup_cause"],
            zone,
            line,
        )


def parse_generic(
    stream: TextIO, *, source: str, mapping: Mapping[str, str], zone: tzinfo = UTC
) -> Iterator[Cdr | BadRow]:
    """A CSV with a header row; ``mapping`` names the column of each of :data:`GENERIC_FIELDS`
    (``dst``, ``start`` and ``billsec`` are required)."""
    missing = {"dst", "start", "billsec"} - set(mapping)
    if missing:
        raise ValueError(f"the mapping lacks {sorted(missing)}")
    reader = csv.DictReader(stream)
    for line, row in enumerate(reader, start=2):
        values = [row.get(name) or "" for name in reader.fieldnames or ()]

        def get(field: str, row: dict = row) -> str:
            return row.get(mapping.get(field, ""), "") or ""

        yield _cdr(
            source,
            get("call_id"),
            values,
            get("account"),
            get("src"),
            get("dst"),
            get("start"),
            get("billsec"),
            get("disposition"),
            zone,
            line,
        )


def parse_json_cdr(record: Mapping[str, object], *, source: str, line: int = 0) -> Cdr | BadRow:
    """One CDR of the HTTP endpoint: ``{"id", "account", "src", "dst", "start", "billsec",
    "disposition"}``; ``start`` is ISO 8601 with an offset (UTC when it has none)."""
    values = [str(record.get(name, "") or "") for name in ("id", *GENERIC_FIELDS[1:])]
    return _cdr(source, values[0], values, *values[1:], UTC, line)


def parse(
    stream: TextIO,
    fmt: str,
    *,
    source: str,
    zone: tzinfo = UTC,
    mapping: Mapping[str, str] | None = None,
) -> Iterator[Cdr | BadRow]:
    """The parser of ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "asterisk":
        return parse_asterisk(stream, source=source, zone=zone)
    if fmt == "freeswitch":
        return parse_freeswitch(stream, source=source, zone=zone)
    if fmt == "generic":
        return parse_generic(stream, source=source, mapping=mapping or {}, zone=zone)
    raise ValueError(f"unknown CDR format {fmt!r}")
