"""CDR import: parse, find the service, rate, write, debit — in batches, idempotently
(plugins/telephony/README.md, "CDR import" and "Balances").

One :class:`Importer` holds what rating needs in memory for the whole import (the tariffs'
prefix indexes and rates, the numbers and account codes of the services, the clients' terms),
so a batch of 20 000 records costs a handful of queries, never one per record:

1. the batch's call ids already rated are looked up at once and skipped (the same file or
   record twice charges once; the unique ``call_id`` backs this up);
2. each new record is resolved (account code, else the caller's number, to a service), rated
   (:mod:`portal_telephony.rating`) or turned into a reject with its reason;
3. the calls are written with one COPY (PostgreSQL) or one executemany (SQLite), the rejects
   likewise, and a reject whose call now rates is removed (re-rating after a fix);
4. prepaid clients are debited once per batch (``use_credit``) and their balance checked:
   the low-balance letter, the block (``portal_telephony.balances``);
5. the batch commits with the import's progress.

Steps 1–2 read (:meth:`Importer.prepare`), steps 3–5 write (:meth:`Importer.write`). On
PostgreSQL they overlap: a writer thread with its own session writes and commits batch N
while batch N+1 is parsed and rated, its duplicate check adding batch N's ids to what the
database answers (:meth:`Importer._pipelined`); batches still commit one by one, in order.

The per-record work is kept to plain values (plugins/telephony/README.md, "Benchmark"):
records are named tuples, rating goes through :class:`fast_rating.CompiledTariff` (the rules
of :mod:`portal_telephony.rating`, compiled), a call is a tuple in :data:`CALL_COLUMNS` order,
and PostgreSQL receives each batch as one binary ``COPY``.
"""

from __future__ import annotations

import codecs
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import (
    ARRAY,
    String,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from portal.billing import Period
from portal.plugin_api import Client, Product, Service, business_zone, now, session, use_credits
from portal_telephony import balances, fast_rating, plan_months, rating
from portal_telephony.cdr_formats import BadRow, Cdr, parse, parse_json_cdr
from portal_telephony.models import NumberState, PhoneNumber
from portal_telephony.rating_models import (
    Call,
    CdrImport,
    ClientTerms,
    Destination,
    IncludedMinutes,
    Prefix,
    Rate,
    Reject,
    Tariff,
)

BATCH = 20000
CALL_COLUMNS = (
    "call_id",
    "client_id",
    "service_id",
    "src",
    "dst",
    "started_at",
    "billsec",
    "billed_seconds",
    "included_seconds",
    "destination",
    "group_name",
    "cost",
    "currency",
    "prepaid",
    "import_id",
)
#: The PostgreSQL types of :data:`CALL_COLUMNS` for the binary COPY (migration telephony_0002).
CALL_TYPES = (
    "varchar",
    "int4",
    "int4",
    "varchar",
    "varchar",
    "timestamptz",
    "int4",
    "int4",
    "int4",
    "varchar",
    "varchar",
    "numeric",
    "varchar",
    "bool",
    "int4",
)
#: A rated call: the values of :data:`CALL_COLUMNS` in that order.
CallRow = tuple[Any, ...]
#: Bytes of a CDR file read and decoded at a time.
CHUNK = 1 << 20


@dataclass
class ImportStats:
    rows: int = 0
    rated: int = 0
    rejected: int = 0
    duplicates: int = 0
    unanswered: int = 0
    charged: Decimal = field(default_factory=lambda: Decimal("0.00"))

    def add(self, other: ImportStats) -> None:
        for name in ("rows", "rated", "rejected", "duplicates", "unanswered", "charged"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class _Line:
    service_id: int
    client_id: int
    product_id: int
    #: The day of the month the plan renews on: its months of included minutes start on it.
    anchor: int


#: Run in a batch's transaction before it commits, with the batch's counts (a file's progress).
BeforeCommit = Callable[[ImportStats], None]


@dataclass(slots=True)
class _Prepared:
    """A rated batch waiting to be written (:meth:`Importer.prepare`)."""

    stats: ImportStats
    calls: list[CallRow]
    rejects: list[dict[str, Any]]
    #: ids of queued rejects that rate now: they leave the queue
    rated_rejects: list[str]
    debits: dict[int, Decimal]
    call_ids: set[str] = field(init=False)
    reject_ids: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.call_ids = {row[0] for row in self.calls}
        self.reject_ids = {row["call_id"] for row in self.rejects}


def _committed(work: Callable[[], ImportStats], before_commit: BeforeCommit | None) -> ImportStats:
    """``work()`` and ``before_commit`` in one transaction of the current session, committed
    (rolled back when either raises)."""
    try:
        stats = work()
        if before_commit is not None:
            before_commit(stats)
        session().commit()
    except BaseException:
        session().rollback()
        raise
    return stats


def _write_in_context(
    app: Flask, importer: Importer, prepared: _Prepared, before_commit: BeforeCommit | None
) -> ImportStats:
    """The writer thread's work for one batch: its own app context, hence its own session
    and connection."""
    with app.app_context():
        return _committed(lambda: importer.write(prepared), before_commit)


#: What rating a service's calls needs: compiled tariff, coefficient, prepaid, currency.
_Profile = tuple[fast_rating.CompiledTariff, Decimal, bool, str]


#: A caller as :meth:`Importer._caller` finds it: line, profile, included minutes, number.
_Caller = tuple[_Line, fast_rating.CompiledTariff, Decimal, bool, str, bool, str]
_CALLERS_LIMIT = 100_000


def load_tariff(row: Tariff) -> rating.Tariff:
    """A tariff's destinations, prefixes and rates in memory (three queries)."""
    tariff = rating.Tariff(
        currency=row.currency,
        free_under=row.free_under,
        night_start=time.fromisoformat(row.night_start),
        night_end=time.fromisoformat(row.night_end),
    )
    prefixes: dict[int, list[str]] = defaultdict(list)
    for destination_id, prefix in session().execute(
        select(Prefix.destination_id, Prefix.prefix)
        .join(Destination, Destination.id == Prefix.destination_id)
        .where(Destination.tariff_id == row.id)
    ):
        prefixes[destination_id].append(prefix)
    for destination_id, name, group in session().execute(
        select(Destination.id, Destination.name, Destination.group_name).where(
            Destination.tariff_id == row.id
        )
    ):
        tariff.add_destination(
            rating.Destination(destination_id, name, group), prefixes[destination_id]
        )
    columns = (
        Rate.destination_id,
        Rate.effective_from,
        Rate.per_minute,
        Rate.connect_fee,
        Rate.first_increment,
        Rate.next_increment,
        Rate.minimum_charge,
        Rate.night_per_minute,
        Rate.weekend_per_minute,
    )
    for values in session().execute(
        select(*columns).join(Destination).where(Destination.tariff_id == row.id)
    ):
        tariff.add_rate(rating.Rate(*values))
    return tariff


class Importer:
    """Rates CDRs for one import (a file, an upload, an HTTP post, a re-rating)."""

    def __init__(self, import_id: int | None = None) -> None:
        self.import_id = import_id
        self.tariffs: dict[int, tuple[rating.Tariff, ZoneInfo]] = {}
        self.compiled: dict[int, fast_rating.CompiledTariff] = {}
        rows = session().scalars(select(Tariff).order_by(Tariff.is_default.desc(), Tariff.id))
        self.default_tariff: int | None = None
        for row in rows:
            self.tariffs[row.id] = (load_tariff(row), ZoneInfo(row.time_zone))
            self.compiled[row.id] = fast_rating.CompiledTariff(*self.tariffs[row.id])
            if self.default_tariff is None:
                self.default_tariff = row.id
        lines = {
            row.id: _Line(row.id, row.client_id, row.product_id, plan_months.anchor_of(row))
            for row in session().execute(
                select(
                    Service.id,
                    Service.client_id,
                    Service.product_id,
                    Service.anchor_day,
                    Service.next_due_date,
                    Service.period_start,
                    Service.registration_date,
                )
                .join(Product, Product.id == Service.product_id)
                .where(Product.module == "telephony")
            )
        }
        self.numbers: dict[str, _Line] = {
            number: lines[service_id]
            for number, service_id in session().execute(
                select(PhoneNumber.number, PhoneNumber.service_id).where(
                    PhoneNumber.state == NumberState.ASSIGNED.value,
                    PhoneNumber.service_id.is_not(None),
                )
            )
            if service_id in lines
        }
        self.accounts: dict[str, _Line] = {}
        for username, service_id in session().execute(
            select(Service.username, Service.id).where(Service.id.in_(list(lines) or [0]))
        ):
            if username:
                self.accounts[username] = lines[service_id]
        # plain values, not ORM rows: a row expires at every batch's commit and would be
        # read again, once per call
        self.terms: dict[int, balances.TermsView] = {
            terms.client_id: balances.TermsView.of(terms)
            for terms in session().scalars(select(ClientTerms))
        }
        self.currencies: dict[int, str] = {
            client_id: currency
            for client_id, currency in session().execute(select(Client.id, Client.currency))
        }
        self.packages: dict[int, list[tuple[int, frozenset[str]]]] = defaultdict(list)
        for package in session().scalars(select(IncludedMinutes)):
            groups = frozenset(g.strip() for g in package.groups.split(",") if g.strip())
            self.packages[package.product_id].append((package.minutes * 60, groups))
        self.zone = business_zone()
        #: (service, first day of its plan month) -> what is left of its packages
        self._allowances: dict[tuple[int, date], list[rating.Allowance]] = {}
        #: (anchor day, first day of the month) -> {service: [(group, included seconds)]}
        self._months: dict[tuple[int, date], dict[int, list[tuple[str, int]]]] = {}
        #: service -> (first moment, end moment, packages) of the plan month last drawn from
        self._current: dict[int, tuple[datetime, datetime, list[rating.Allowance]]] = {}
        self._profiles: dict[int, _Profile | str] = {}
        self._callers: dict[str | tuple[str, str], _Caller | str] = {}

    # --- resolving ------------------------------------------------------------------------------

    def line_of(self, cdr: Cdr) -> _Line | None:
        if cdr.account and cdr.account in self.accounts:
            return self.accounts[cdr.account]
        return self.numbers.get(fast_rating.international(cdr.src))

    def profile(self, line: _Line) -> _Profile | str:
        """What rating a service's calls needs from its client's terms, once per service and
        import (these terms do not change during an import; the balance flags that do are not
        part of it), or ``no_tariff``."""
        found = self._profiles.get(line.service_id)
        if found is None:
            terms = self.terms.get(line.client_id)
            tariff_id = (terms.tariff_id if terms else None) or self.default_tariff
            if tariff_id is None:
                found = "no_tariff"
            else:
                compiled = self.compiled[tariff_id]
                found = (
                    compiled,
                    terms.coefficient if terms else rating.ONE,
                    bool(terms.prepaid) if terms else False,
                    self.currencies.get(line.client_id, compiled.currency),
                )
            self._profiles[line.service_id] = found
        return found

    def allowances(self, line: _Line, start: datetime) -> list[rating.Allowance]:
        """What is left of the plan's included minutes in the plan month of the call (README,
        "Included minutes": the months the plan renews by, in the portal's time zone). The
        month's use of every service with the same anchor day is read with one query, then
        drawn from in memory; the month a service last drew from is kept, so a call costs a
        comparison of moments."""
        current = self._current.get(line.service_id)
        if current is not None and current[0] <= start < current[1]:
            return current[2]
        packages = self.packages.get(line.product_id)
        if not packages:
            return []
        month = plan_months.month_of(start.astimezone(self.zone).date(), line.anchor)
        key = (line.service_id, month.start)
        found = self._allowances.get(key)
        if found is None:
            used = self._months.get((line.anchor, month.start))
            if used is None:
                used = self._months[(line.anchor, month.start)] = self._load_month(month)
            found = [rating.Allowance(seconds, groups) for seconds, groups in packages]
            for group, seconds in used.get(line.service_id, ()):
                left = int(seconds or 0)  # drawn in the order rating draws
                for allowance in found:
                    if left and allowance.covers(group):
                        taken = min(left, allowance.seconds)
                        allowance.seconds -= taken
                        left -= taken
            self._allowances[key] = found
        # in UTC, as the calls' starts are: comparing moments of one tzinfo is the cheap kind
        first, end = (moment.astimezone(UTC) for moment in plan_months.moments(month, self.zone))
        self._current[line.service_id] = (first, end, found)
        return found

    def _load_month(self, month: Period) -> dict[int, list[tuple[str, int]]]:
        """Included seconds already used in ``month``, per service and destination group."""
        first, end = plan_months.moments(month, self.zone)
        used: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for service_id, group, seconds in session().execute(
            select(Call.service_id, Call.group_name, func.sum(Call.included_seconds))
            .where(Call.started_at >= first, Call.started_at < end, Call.included_seconds > 0)
            .group_by(Call.service_id, Call.group_name)
        ):
            used[service_id].append((group, seconds))
        return used

    # --- one batch ------------------------------------------------------------------------------

    def run(
        self,
        records: Iterable[Cdr | BadRow],
        fmt: str,
        source: str,
        progress: Callable[[list[Cdr | BadRow]], BeforeCommit | None] | None = None,
    ) -> ImportStats:
        """Import ``records`` batch by batch; each batch commits. ``progress(batch)`` is called
        as a batch has been read and returns what to run in that batch's transaction (a
        file's position), so that a batch costs one commit.

        On PostgreSQL batch N+1 is parsed and rated while batch N is written and committed by
        a writer thread with its own session (plugins/telephony/README.md, "Benchmark"): the
        server inserts on one core while this process rates on the other."""
        records = iter(records)
        batches = iter(lambda: list(islice(records, BATCH)), [])
        if session().get_bind().dialect.name == "postgresql":
            return self._pipelined(batches, fmt, source, progress)
        total = ImportStats()
        for batch in batches:
            total.add(self.batch(batch, fmt, source, progress(batch) if progress else None))
        return total

    def batch(
        self,
        records: list[Cdr | BadRow],
        fmt: str,
        source: str,
        before_commit: BeforeCommit | None = None,
    ) -> ImportStats:
        """Import one batch and commit it; ``before_commit`` (a file's progress) runs in the
        batch's transaction, so that a batch costs one commit."""
        for attempt in (1, 2):
            try:
                return _committed(
                    lambda: self.write(self.prepare(records, fmt, source)), before_commit
                )
            except IntegrityError:  # another import wrote some of these calls meanwhile
                self.forget_usage()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def forget_usage(self) -> None:
        """After a batch was rolled back: the included minutes it drew are read again."""
        self._allowances.clear()
        self._months.clear()
        self._current.clear()

    def _pipelined(
        self,
        batches: Iterator[list[Cdr | BadRow]],
        fmt: str,
        source: str,
        progress: Callable[[list[Cdr | BadRow]], BeforeCommit | None] | None,
    ) -> ImportStats:
        """:meth:`run` with one batch in flight. The batch being written is not committed yet,
        so the next batch's duplicate check adds its ids (``_Prepared.call_ids`` and
        ``reject_ids``) to what the database answers; the unique ``call_id`` stays the final
        guard. Batches commit in order, each with its calls, rejects, debits and progress: a
        crash leaves whole batches, and importing the file again charges none of them twice.
        A conflict with another import (IntegrityError) drops the rated batch that waits, and
        both batches are imported again one at a time (:meth:`batch`, which reads the
        duplicates afresh)."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        # What the caller has not committed would be invisible to the writer's session (and
        # its locks could stop it): committed first, as the first batch's commit used to.
        session().commit()
        total = ImportStats()
        with ThreadPoolExecutor(1, thread_name_prefix="cdr-writer") as writer:
            flight: tuple[list, BeforeCommit | None, _Prepared, Future] | None = None
            for batch in chain(batches, [None]):
                before = progress(batch) if progress and batch is not None else None
                prepared = (
                    None
                    if batch is None
                    else self.prepare(batch, fmt, source, flight[2] if flight else None)
                )
                if flight is not None:
                    try:
                        total.add(flight[3].result())
                    except IntegrityError:
                        session().rollback()
                        self.forget_usage()
                        total.add(self.batch(flight[0], fmt, source, flight[1]))
                        if batch is not None:
                            total.add(self.batch(batch, fmt, source, before))
                        flight = None
                        continue
                if batch is None:
                    break
                assert prepared is not None
                future = writer.submit(_write_in_context, app, self, prepared, before)
                flight = (batch, before, prepared, future)
        session().commit()  # ends this session's reads
        return total

    def prepare(
        self,
        records: list[Cdr | BadRow],
        fmt: str,
        source: str,
        in_flight: _Prepared | None = None,
    ) -> _Prepared:
        """Deduplicate and rate a batch (reads only): its calls, rejects and debits.
        ``in_flight`` is a batch written but not committed yet: its calls count as rated,
        its rejects as queued."""
        stats = ImportStats(rows=len(records))
        ids = [record.call_id for record in records]
        unique: dict[str, Cdr | BadRow]
        if len(set(ids)) == len(ids):
            unique = dict(zip(ids, records, strict=True))
        else:
            unique = {}
            for record in records:
                unique.setdefault(record.call_id, record)
            ids = list(unique)
        stats.duplicates = len(records) - len(unique)
        done, known_rejects = _seen(ids)
        if in_flight is not None:
            done.update(in_flight.call_ids.intersection(ids))
            known_rejects.update(in_flight.reject_ids.intersection(ids))
        calls: list[CallRow] = []
        rejects: list[dict[str, Any]] = []
        debits: dict[int, Decimal] = defaultdict(Decimal)
        moment = now()
        rate = self._rate
        for call_id, record in unique.items():
            if call_id in done:
                stats.duplicates += 1
                continue
            if isinstance(record, BadRow):
                if call_id not in known_rejects:
                    rejects.append(
                        self._reject(
                            record.call_id,
                            record.reason,
                            fmt,
                            source,
                            record.raw,
                            record.line,
                            moment,
                        )
                    )
                continue
            if not record.answered or record.billsec == 0:
                stats.unanswered += 1
                continue
            row = rate(record)
            if isinstance(row, str):
                if call_id not in known_rejects:
                    rejects.append(
                        self._reject(call_id, row, "json", source, _as_json(record), 0, moment)
                    )
                continue
            calls.append(row)
            if row[_PREPAID] and row[_COST] > 0:
                debits[row[_CLIENT]] += row[_COST]
        stats.rejected = len(rejects)
        stats.rated = len(calls)
        rated_rejects = [row[0] for row in calls if row[0] in known_rejects]
        return _Prepared(stats, calls, rejects, rated_rejects, debits)

    def write(self, prepared: _Prepared) -> ImportStats:
        """Write a prepared batch in the current session (not committed): the calls, the
        rejects, the prepaid debits and what the balances then call for."""
        stats = prepared.stats
        if prepared.calls:
            _write_calls(prepared.calls)
        if prepared.rated_rejects:
            session().execute(delete(Reject).where(Reject.call_id.in_(prepared.rated_rejects)))
        if prepared.rejects:
            session().execute(insert(Reject.__table__), prepared.rejects)
        if prepared.debits:
            left = use_credits(
                prepared.debits, description=f"Calls, import {self.import_id or '-'}"
            )
            balances.after_debits(left, self.terms)
            stats.charged = sum(prepared.debits.values(), Decimal("0.00"))
        return stats

    def _reject(self, call_id, reason, fmt, source, raw, line, moment) -> dict[str, Any]:
        return {
            "call_id": call_id,
            "reason": reason,
            "fmt": fmt,
            "source": source,
            "raw": raw,
            "line": line,
            "import_id": self.import_id,
            "created_at": moment,
        }

    def _caller(self, cdr: Cdr) -> _Caller | str:
        """What rating needs of a call's caller (account code, else number): its service, the
        profile, whether the plan includes minutes, the number as stored; or the reject
        reason. Cached per import (:data:`_CALLERS_LIMIT` callers at most): a file's calls
        come from a few thousand callers."""
        key = (cdr.account, cdr.src) if cdr.account else cdr.src
        found = self._callers.get(key)
        if found is None:
            line = self.line_of(cdr)
            if line is None:
                found = "unknown_account"
            else:
                profile = self.profile(line)
                found = (
                    profile
                    if isinstance(profile, str)
                    else (line, *profile, line.product_id in self.packages, cdr.src[:40])
                )
            if len(self._callers) >= _CALLERS_LIMIT:
                self._callers.clear()
            self._callers[key] = found
        return found

    def _rate(self, cdr: Cdr) -> CallRow | str:
        """The call's row (:data:`CALL_COLUMNS`), or the reason it goes to the rejects."""
        caller = self._caller(cdr)
        if isinstance(caller, str):
            return caller
        line, compiled, coefficient, prepaid, currency, packaged, src = caller
        start = cdr.start
        rated = compiled.rate(
            fast_rating.international(cdr.dst),
            start,
            cdr.billsec,
            self.allowances(line, start) if packaged else (),
            coefficient,
        )
        if isinstance(rated, str):
            return rated
        destination, group, billed, included, cost = rated
        return (
            cdr.call_id,
            line.client_id,
            line.service_id,
            src,
            cdr.dst[:40],
            start,
            cdr.billsec,
            billed,
            included,
            destination,
            group,
            cost,
            currency,
            prepaid,
            self.import_id,
        )


_CLIENT = CALL_COLUMNS.index("client_id")
_COST = CALL_COLUMNS.index("cost")
_PREPAID = CALL_COLUMNS.index("prepaid")


def _among(values: list[str]) -> Callable[[Any], Any]:
    """``column IN values``. On PostgreSQL ``= ANY(...)`` with one parameter instead of 5 000:
    the ids joined by newlines and split by the server (dumping a Python list as an array
    costs 2 µs an id), or an array when an id itself holds a newline."""
    if session().get_bind().dialect.name != "postgresql":
        return lambda column: column.in_(values)
    joined = "\n".join(values)
    if joined.count("\n") == len(values) - 1:
        array: Any = func.string_to_array(
            bindparam("ids", joined, type_=String), "\n", type_=ARRAY(String)
        )
    else:
        array = bindparam("ids", values, type_=ARRAY(String))
    return lambda column: column == any_(array)


def _seen(ids: list[str]) -> tuple[set[str], set[str]]:
    """Which of ``ids`` are rated calls already, and which wait in the rejects queue: one
    query for both."""
    done: set[str] = set()
    rejected: set[str] = set()
    if not ids:
        return done, rejected
    among = _among(ids)
    query = (
        select(Call.call_id, literal(True))
        .where(among(Call.call_id))
        .union_all(select(Reject.call_id, literal(False)).where(among(Reject.call_id)))
    )
    for call_id, is_call in session().execute(query):
        (done if is_call else rejected).add(call_id)
    return done, rejected


def _as_json(cdr: Cdr) -> str:
    return json.dumps(
        {
            "id": cdr.call_id,
            "account": cdr.account,
            "src": cdr.src,
            "dst": cdr.dst,
            "start": cdr.start.isoformat(),
            "billsec": cdr.billsec,
            "disposition": "ANSWERED" if cdr.answered else "NO ANSWER",
        },
        ensure_ascii=False,
    )


def _write_calls(rows: list[CallRow]) -> None:
    """One COPY on PostgreSQL (the floor the bench compares with), binary so that neither side
    turns timestamps and decimals into text and back; else one executemany. A duplicate
    ``call_id`` (another import meanwhile) is SQLAlchemy's IntegrityError on both, which
    :meth:`Importer.batch` retries."""
    connection = session().connection()
    if connection.dialect.name != "postgresql":
        session().execute(
            insert(Call.__table__), [dict(zip(CALL_COLUMNS, r, strict=True)) for r in rows]
        )
        return
    statement = f"COPY telephony_call ({', '.join(CALL_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    try:
        with (
            connection.connection.driver_connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            copy.set_types(CALL_TYPES)
            write = copy.write_row
            for row in rows:
                write(row)
    except connection.dialect.dbapi.IntegrityError as error:
        raise IntegrityError(statement, None, error) from error


# --- sources ----------------------------------------------------------------------------------


def _lines(raw: BinaryIO, progress: list[int]) -> Iterator[str]:
    """Decoded lines of a binary file, counting the bytes read into ``progress[0]`` (a text
    file's ``tell()`` is not available while ``csv`` iterates it). Read and decoded a
    megabyte at a time, split at ``\n`` only (as iterating the binary file splits) by a
    ``StringIO`` per chunk: no Python code runs per line."""

    def chunks() -> Iterator[io.StringIO]:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        rest = ""
        while chunk := raw.read(CHUNK):
            progress[0] += len(chunk)
            text = rest + decoder.decode(chunk)
            cut = text.rfind("\n") + 1
            rest = text[cut:]
            yield io.StringIO(text[:cut])
        rest += decoder.decode(b"", final=True)
        if rest:
            yield io.StringIO(rest)

    return chain.from_iterable(chunks())


def import_file(
    path: Path,
    *,
    fmt: str = "asterisk",
    source: str = "default",
    zone: str = "UTC",
    mapping: dict[str, str] | None = None,
    record: CdrImport | None = None,
) -> ImportStats:
    """Import the CDR file at ``path`` streaming (a 1 GB file is read line by line), with
    ``record`` (a :class:`CdrImport`) kept up to date after every batch."""
    if record is None:
        record = CdrImport(
            filename=path.name,
            path=str(path),
            fmt=fmt,
            source=source,
            size=path.stat().st_size,
            created_at=now(),
        )
        session().add(record)
    record.status = "running"
    session().commit()
    importer = Importer(record.id)
    progress = [0]
    try:
        with path.open("rb") as raw:
            lines = _lines(raw, progress)
            stream = _StreamAdapter(lines)
            records = parse(stream, fmt, source=source, zone=ZoneInfo(zone), mapping=mapping)
            total = importer.run(records, fmt, source, _progress_of(record.id, progress))
    except Exception as error:
        session().rollback()
        record.status, record.error, record.finished_at = "failed", str(error)[:2000], now()
        session().commit()
        raise
    record.status, record.position, record.finished_at = "done", record.size, now()
    session().commit()
    session().refresh(record)  # the batches updated its counts in their own statements
    return total


def _progress_of(
    record_id: int, progress: list[int]
) -> Callable[[list[Cdr | BadRow]], BeforeCommit]:
    """For :meth:`Importer.run`: as a batch is read, the file's position and rows so far;
    in the batch's transaction, an UPDATE of the import's row (whichever session writes the
    batch) with them and the batch's counts."""
    rows = [0]

    def read(batch: list[Cdr | BadRow]) -> BeforeCommit:
        rows[0] += len(batch)
        position, so_far = progress[0], rows[0]

        def note(stats: ImportStats) -> None:
            session().execute(
                update(CdrImport)
                .where(CdrImport.id == record_id)
                .values(
                    position=position,
                    rows=so_far,
                    rated=CdrImport.rated + stats.rated,
                    rejected=CdrImport.rejected + stats.rejected,
                    duplicates=CdrImport.duplicates + stats.duplicates,
                )
            )

        return note

    return read


class _StreamAdapter(io.TextIOBase):
    """An iterator of lines seen as a text stream by the parsers (they only iterate it)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines

    def __iter__(self) -> Iterator[str]:
        return self._lines

    def __next__(self) -> str:
        return next(self._lines)


def import_json(records: list[dict[str, Any]], *, source: str) -> ImportStats:
    """CDRs posted by a PBX (the HTTP endpoint), rated at once."""
    parsed = [parse_json_cdr(r, source=source, line=i) for i, r in enumerate(records, start=1)]
    return Importer().run(parsed, "json", source)


def rerate_rejects(ids: Iterable[int] | None = None) -> ImportStats:
    """Rate rejects again after a fix (a number assigned, a prefix or rate added): those that
    rate now become calls and leave the queue; those that do not stay with their reason.
    Rows that never parsed (a malformed date) are parsed again from their raw text."""
    query = select(Reject)
    if ids is not None:
        query = query.where(Reject.id.in_(list(ids)))
    rejects = list(session().scalars(query))
    importer = Importer()
    parsed: dict[tuple[str, str], list[Cdr | BadRow]] = defaultdict(list)
    for reject in rejects:
        if reject.fmt == "json":
            item: Cdr | BadRow = parse_json_cdr(json.loads(reject.raw), source="")
            item = Cdr(
                reject.call_id,
                *(
                    getattr(item, n)
                    for n in ("account", "src", "dst", "start", "billsec", "answered", "raw")
                ),
            )  # type: ignore[arg-type]
        else:
            (item,) = list(
                parse(io.StringIO(reject.raw + "\n"), reject.fmt, source=reject.source)
            ) or [BadRow(reject.call_id, reject.reason, reject.raw, reject.line)]
        parsed[(reject.fmt, reject.source)].append(item)
    total = ImportStats()
    for (fmt, source), items in parsed.items():
        total.add(importer.run(items, fmt, source))
    return total
