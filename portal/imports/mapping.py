"""Remembering imported rows: find the portal row a source row became, record a new one.

A source row is *unchanged* when its checksum equals the one recorded at the last import (and
its portal row still exists), *changed* when it differs, *new* when it has no mapping. Steps ask
:meth:`Mappings.get` before writing and :meth:`Mappings.remember` after.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from portal.core.extensions import db
from portal.imports.models import ImportMapping


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"D{value}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def row_checksum(row: Mapping[str, Any], *extra: Any) -> str:
    """sha256 of the row's columns (and of ``extra``: data from other tables that the portal
    row is built from), independent of column order."""
    data = {key: _canonical(value) for key, value in row.items()}
    payload = json.dumps([data, [_canonical(item) for item in extra]], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class Mappings:
    """The mapping rows of one source (``whmcs``), cached per table for the run."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._cache: dict[str, dict[str, ImportMapping]] = {}

    def _table(self, source_table: str) -> dict[str, ImportMapping]:
        if source_table not in self._cache:
            rows = db.session.scalars(
                select(ImportMapping).where(
                    ImportMapping.source == self.source,
                    ImportMapping.source_table == source_table,
                )
            )
            self._cache[source_table] = {row.source_id: row for row in rows}
        return self._cache[source_table]

    def get(self, source_table: str, source_id: object) -> ImportMapping | None:
        return self._table(source_table).get(str(source_id))

    def target_id(self, source_table: str, source_id: object) -> int | None:
        """The portal id the source row became, or None (not imported, or refused)."""
        entry = self.get(source_table, source_id)
        return entry.target_id if entry is not None else None

    def remember(
        self,
        source_table: str,
        source_id: object,
        *,
        target_table: str,
        target_id: int,
        checksum: str,
        at: datetime,
    ) -> ImportMapping:
        entry = self.get(source_table, source_id)
        if entry is None:
            entry = ImportMapping(
                source=self.source,
                source_table=source_table,
                source_id=str(source_id),
            )
            db.session.add(entry)
            self._table(source_table)[str(source_id)] = entry
        entry.target_table = target_table
        entry.target_id = target_id
        entry.source_checksum = checksum
        entry.imported_at = at
        return entry

    def targets(self, source_table: str) -> dict[str, int]:
        """source id (as text) -> portal id of every imported row of ``source_table``."""
        return {key: entry.target_id for key, entry in self._table(source_table).items()}

    def imported_ids(self, source_table: str) -> list[int]:
        return [entry.target_id for entry in self._table(source_table).values()]

    def forget_cache(self) -> None:
        """After a rollback the cached rows are stale (a dry run, a failed step)."""
        self._cache.clear()
