"""CDR file formats: Asterisk ``Master.csv``, FreeSWITCH ``cdr_csv`` and a generic CSV with a
column mapping (plugins/telephony/README.md, "CDR import"). Pure and streaming: each parser
reads a text stream row by row and yields a :class:`Cdr` or a :class:`BadRow`, so a 1 GB file
is never held in memory and a broken row becomes a reject with its reason instead of an
exception that loses the rest of the file.

A call's identity (``call_id``) makes an import idempotent: the PBX's unique id when the row
has one (Asterisk ``uniqueid``, FreeSWITCH ``uuid``), else a SHA-256 of the row's fields, and
always prefixed with the source (the PBX) so two PBXs' ids never collide.

The parsers run once per CDR of million-row files (plugins/telephony/README.md, "Benchmark"):
they index ``csv.reader``'s lists by position, build named tuples (a frozen dataclass costs
three times as much to create) and read wall-clock times through :class:`MomentParser`, which
converts each hour of the file once instead of each row.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from typing import NamedTuple, TextIO

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


class Cdr(NamedTuple):
    """One call as the PBX reported it: ``start`` aware UTC, ``billsec`` talk seconds."""

    call_id: str
    account: str
    src: str
    dst: str
    start: datetime
    billsec: int
    answered: bool
    raw: str


class BadRow(NamedTuple):
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
    epoch seconds (FreeSWITCH ``*_epoch``); aware UTC. The reference: :class:`MomentParser`
    gives the same answers faster."""
    text = text.strip()
    if text.replace(".", "", 1).isdigit() and len(text) >= 9:
        return datetime.fromtimestamp(float(text), UTC)
    moment = datetime.fromisoformat(text.replace("T", " "))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


#: ``YYYY-MM-DD HH`` (or ``T``): the hour of a wall-clock time that :class:`MomentParser` caches.
_HOUR = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d", re.ASCII)
#: ``:MM:SS`` -> how far into its hour: one dict lookup parses and validates both fields.
_IN_HOUR = {
    f":{minute:02d}:{second:02d}": timedelta(minutes=minute, seconds=second)
    for minute in range(60)
    for second in range(60)
}
_WHOLE_HOUR = timedelta(seconds=3599)
_UNSEEN = object()


class MomentParser:
    """:func:`parse_moment` for one zone, converting each hour of wall clock once: a CDR file's
    times are ``YYYY-MM-DD HH:MM:SS`` and thousands of calls share an hour, so a row costs two
    dict lookups and an addition instead of ``fromisoformat`` + ``astimezone``.

    Exact, not approximate: an hour is cached only when its ``:00:00`` and ``:59:59`` are 3 599 s
    apart in UTC (no offset change inside it; a DST change at the hour's start or end is fine,
    and a half-hour change such as Lord Howe's is left to :func:`parse_moment`), and every
    other text (offsets, epoch seconds, malformed dates) goes to :func:`parse_moment` itself.
    ``tests/test_fast_rating.py`` compares both on every hour of a DST year."""

    __slots__ = ("_hours", "zone")

    #: Bounds the cache against a file of garbage dates (a year of hours is 8 760 entries).
    LIMIT = 100_000

    def __init__(self, zone: tzinfo = UTC) -> None:
        self.zone = zone
        self._hours: dict[str, datetime | None] = {}

    def __call__(self, text: str) -> datetime:
        if len(text) == 19:
            within = _IN_HOUR.get(text[13:])
            if within is not None:
                key = text[:13]
                hour = self._hours.get(key, _UNSEEN)
                if hour is _UNSEEN:
                    hour = self._learn(key)
                if hour is not None:
                    return hour + within  # type: ignore[operator]
        return parse_moment(text, self.zone)

    def _learn(self, key: str) -> datetime | None:
        hour = None
        if _HOUR.fullmatch(key):
            try:
                first = parse_moment(key + ":00:00", self.zone)
                last = parse_moment(key + ":59:59", self.zone)
            except ValueError:  # 2026-13-01: parse_moment raises it for the row
                pass
            else:
                hour = first if last - first == _WHOLE_HOUR else None
        if len(self._hours) >= self.LIMIT:
            self._hours.clear()
        self._hours[key] = hour
        return hour


_ANSWERED = frozenset(("ANSWERED", "NORMAL_CLEARING", "ANSWER", ""))


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
    moment: Callable[[str], datetime],
    line: int,
) -> Cdr | BadRow:
    raw = ",".join(values)
    unique = unique.strip()
    call_id = f"{source}:{unique}" if unique else row_digest(source, values)
    try:
        when = moment(start)
    except ValueError:
        return BadRow(call_id, "bad_date", raw, line)
    try:
        seconds = int(billsec)  # int() ignores surrounding blanks itself
    except ValueError:
        if billsec.strip():
            return BadRow(call_id, "bad_duration", raw, line)
        seconds = 0
    if seconds < 0:
        return BadRow(call_id, "negative_duration", raw, line)
    answered = disposition in _ANSWERED or disposition.strip().upper() in _ANSWERED
    return Cdr(call_id, account.strip(), src.strip(), dst.strip(), when, seconds, answered, raw)


def parse_asterisk(stream: TextIO, *, source: str, zone: tzinfo = UTC) -> Iterator[Cdr | BadRow]:
    """Asterisk ``cdr_csv`` (``Master.csv``): no header, 16 columns (:data:`ASTERISK_COLUMNS`),
    then optional ``uniqueid`` and ``userfield``."""
    moment = MomentParser(zone)
    for line, values in enumerate(csv.reader(stream), start=1):
        if len(values) < 16:
            if values:
                yield BadRow(row_digest(source, values), "bad_row", ",".join(values), line)
            continue
        # accountcode, src, dst, start, billsec, disposition; uniqueid
        yield _cdr(
            source,
            values[16] if len(values) > 16 else "",
            values,
            values[0],
            values[1],
            values[2],
            values[9],
            values[13],
            values[14],
            moment,
            line,
        )


def parse_freeswitch(stream: TextIO, *, source: str, zone: tzinfo = UTC) -> Iterator[Cdr | BadRow]:
    """FreeSWITCH ``cdr_csv`` with the "default" template (no header, 15 columns,
    :data:`FREESWITCH_COLUMNS`)."""
    moment = MomentParser(zone)
    for line, values in enumerate(csv.reader(stream), start=1):
        if len(values) < 11:
            if values:
                yield BadRow(row_digest(source, values), "bad_row", ",".join(values), line)
            continue
        # uuid; accountcode, caller_id_number, destination_number, start_stamp, billsec,
        # hangup_cause
        yield _cdr(
            source,
            values[10],
            values,
            values[12] if len(values) > 12 else "",
            values[1],
            values[2],
            values[4],
            values[8],
            values[9],
            moment,
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
    moment = MomentParser(zone)
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
            moment,
            line,
        )


_UTC_MOMENT = partial(parse_moment, zone=UTC)


def parse_json_cdr(record: Mapping[str, object], *, source: str, line: int = 0) -> Cdr | BadRow:
    """One CDR of the HTTP endpoint: ``{"id", "account", "src", "dst", "start", "billsec",
    "disposition"}``; ``start`` is ISO 8601 with an offset (UTC when it has none)."""
    values = [str(record.get(name, "") or "") for name in ("id", *GENERIC_FIELDS[1:])]
    return _cdr(source, values[0], values, *values[1:], _UTC_MOMENT, line)


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
