"""What every import step gets: the source, the mapping, the report, the options and the clock.

A step reads its WHMCS tables with :meth:`ImportContext.rows` (which applies ``--since`` and
shows a progress bar) and writes each row through :meth:`ImportContext.sync`, which decides
created / changed / unchanged from the mapping and records the outcome in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from portal.core.extensions import db
from portal.imports.mapping import Mappings, row_checksum
from portal.imports.report import ImportReport
from portal.imports.whmcs.source import WhmcsSource

SOURCE = "whmcs"


class Refused(Exception):
    """Raised by a step's writer: this row is not imported, for the reason given."""


class ProgressBar(Protocol):
    def update(self, n_steps: int) -> None: ...


#: progress(label, length) -> a context manager giving a bar with ``update(n)``.
Progress = Callable[[str, int], AbstractContextManager[ProgressBar]]


class _NoBar:
    def update(self, n_steps: int) -> None:
        pass


def no_progress(label: str, length: int) -> AbstractContextManager[ProgressBar]:
    return nullcontext(_NoBar())


#: Client custom fields whose value is the client's ИНН / КПП (compared case-insensitively).
DEFAULT_INN_FIELDS = ("ИНН", "INN", "ИНН/TIN", "TIN", "Tax ID")
DEFAULT_KPP_FIELDS = ("КПП", "KPP")


@dataclass(frozen=True)
class ImportOptions:
    inn_fields: Sequence[str] = DEFAULT_INN_FIELDS
    kpp_fields: Sequence[str] = DEFAULT_KPP_FIELDS
    #: Tables with at least this many rows to read get a progress bar.
    progress_from: int = 200
    #: The zone of WHMCS's local times; None: the portal's ``default_timezone``.
    source_timezone: str | None = None


@dataclass
class ImportContext:
    source: WhmcsSource
    report: ImportReport
    now: datetime
    since: date | None = None
    options: ImportOptions = field(default_factory=ImportOptions)
    progress: Progress = no_progress
    mappings: Mappings = field(default_factory=lambda: Mappings(SOURCE))
    #: Shared between steps: e.g. WHMCS currency id -> ISO code, admin username -> staff id.
    lookups: dict[str, Any] = field(default_factory=dict)

    def rows(
        self,
        table: str,
        *,
        changed: Sequence[str] = (),
        order_by: str | tuple[str, ...] = "id",
        select: str | None = None,
        also: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The rows of ``table`` to import: all of them, or with ``--since`` those whose
        ``changed`` columns (e.g. ``updated_at``) are on or after that day. A table without
        such columns is read whole; its unchanged rows cost a checksum each. ``also`` is an
        SQL condition (with ``:since``) that marks a row changed too: data from another table
        the portal row is built from."""
        since = self.since if changed else None
        length = self.source.count(table, since=since, changed=changed, select=select, also=also)
        bar_context = (
            self.progress(table, length)
            if length >= self.options.progress_from
            else no_progress(table, length)
        )
        with bar_context as bar:
            for row in self.source.rows(
                table, since=since, changed=changed, order_by=order_by, select=select, also=also
            ):
                yield row
                bar.update(1)

    def sync(
        self,
        table: str,
        row: Mapping[str, Any],
        *,
        target_table: str,
        write: Callable[[int | None], int],
        source_id: object = None,
        extra: Sequence[Any] = (),
        exists: Callable[[int], bool] | None = None,
    ) -> int | None:
        """Import one source row: skip it when unchanged since the last run, else call
        ``write(existing portal id or None)`` which creates or updates the portal row and
        returns its id (or raises :class:`Refused`). Returns the portal id, None if refused.

        ``extra`` is data from other tables the portal row is built from (it is part of the
        checksum). ``exists`` tells whether the mapped portal row is still there: a row staff
        deleted in the portal is created again when its source row changes (an unchanged one
        is not looked at, so re-runs stay cheap and a deletion stands until then).
        """
        key = row["id"] if source_id is None else source_id
        checksum = row_checksum(row, *extra)
        entry = self.mappings.get(table, key)
        if entry is not None and entry.source_checksum == checksum:
            self.report.unchanged(table)
            return entry.target_id
        entry_target = entry.target_id if entry is not None else None
        if entry_target is not None and exists is not None and not exists(entry_target):
            entry_target = None
        try:
            # Lookups inside ``write`` must not flush its half-built row; it flushes when done.
            with db.session.no_autoflush:
                target_id = write(entry_target)
        except Refused as refusal:
            self.report.refused(table, key, str(refusal))
            return None
        self.mappings.remember(
            table,
            key,
            target_table=target_table,
            target_id=target_id,
            checksum=checksum,
            at=self.now,
        )
        if entry_target is None:
            self.report.created(table)
        else:
            self.report.changed(table)
        return target_id
