"""Importing the long tables (invoices, payments) a batch of new rows at a time.

:meth:`ImportContext.sync` writes one row and flushes it to learn its id: right for a changed
row, too slow for a hundred thousand new ones. :class:`BatchSync` decides per row like ``sync``
does (unchanged: skipped, changed or whose portal row is gone: written alone through ``sync``),
but collects the *new* rows and hands them to the step's ``insert`` in batches, which inserts
them with one multi-row statement per table (``INSERT ... RETURNING`` for the ids, in order)
and returns their portal ids. The mapping and the report are kept exactly as ``sync`` keeps
them, so a second run sees no difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from portal.imports.mapping import row_checksum
from portal.imports.whmcs.context import ImportContext, Refused

#: New rows inserted together.
BATCH = 1000


class BatchSync:
    def __init__(
        self,
        ctx: ImportContext,
        table: str,
        *,
        target_table: str,
        write: Callable[[dict[str, Any], int | None, Any], int],
        build: Callable[[dict[str, Any], Any], Any],
        insert: Callable[[list[Any]], Sequence[int]],
        existing_ids: set[int],
    ) -> None:
        """``write(row, portal id or None, data)`` writes one row through the ORM (changed
        rows); ``build(row, data)`` prepares a new row's values (or raises
        :class:`Refused`); ``data`` is what :meth:`add` was given with the row; ``insert``
        inserts a list of what ``build`` made and returns their ids in the same order;
        ``existing_ids`` are the portal ids that exist (a mapped row whose portal row is gone
        is imported again)."""
        self.ctx = ctx
        self.table = table
        self.target_table = target_table
        self.write = write
        self.build = build
        self.insert = insert
        self.existing_ids = existing_ids
        self._pending: list[tuple[dict[str, Any], str, Any]] = []

    def add(self, row: dict[str, Any], extra: Sequence[Any] = (), data: Any = None) -> None:
        """Import ``row``; ``extra`` counts in its checksum (rows of other tables it is built
        from), ``data`` is passed to ``build``/``write``."""
        checksum = row_checksum(row, *extra)
        entry = self.ctx.mappings.get(self.table, row["id"])
        if entry is not None and entry.target_id in self.existing_ids:
            if entry.source_checksum == checksum:
                self.ctx.report.unchanged(self.table)
                return
            self.flush()  # a changed row may refer to new rows of the batch
            self.ctx.sync(
                self.table,
                row,
                target_table=self.target_table,
                extra=extra,
                write=lambda existing: self.write(row, existing, data),
            )
            return
        try:
            built = self.build(row, data)
        except Refused as refusal:
            self.ctx.report.refused(self.table, row["id"], str(refusal))
            return
        self._pending.append((row, checksum, built))
        if len(self._pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Insert the new rows collected so far."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        ids = self.insert([built for _row, _checksum, built in pending])
        for (row, checksum, _built), target_id in zip(pending, ids, strict=True):
            self.ctx.mappings.remember(
                self.table,
                row["id"],
                target_table=self.target_table,
                target_id=target_id,
                checksum=checksum,
                at=self.ctx.now,
            )
            self.ctx.report.created(self.table)
            self.existing_ids.add(target_id)
