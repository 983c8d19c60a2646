"""Remembering imported rows: find the portal row a source row became, record a new one.

A source row is *unchanged* when its checksum equals the one recorded at the last import (and
its portal row still exists), *changed* when it differs, *new* when it has no mapping. Steps ask
:meth:`Mappings.get` before writing and :meth:`Mappings.remember` after.

A table's mapping is read once per run and held as small tuples, not ORM objects: 100 000
invoices cost a few megabytes, and updates are plain UPDATE statements.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Select, select, update

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


class Entry(NamedTuple):
    """What the mapping knows of one source row."""

    target_table: str
    target_id: int
    source_checksum: str


class Mappings:
    """The mapping rows of one source (``whmcs``), cached per source table for the run."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._cache: dict[str, dict[str, Entry]] = {}

    def _table(self, source_table: str) -> dict[str, Entry]:
        if source_table not in self._cache:
            rows = db.session.execute(
                select(
                    ImportMapping.source_id,
                    ImportMapping.target_table,
                    ImportMapping.target_id,
                    ImportMapping.source_checksum,
                ).where(
                    ImportMapping.source == self.source,
                    ImportMapping.source_table == source_table,
                )
            )
            self._cache[source_table] = {
                source_id: Entry(target_table, target_id, checksum)
                for source_id, target_table, target_id, checksum in rows
            }
        return self._cache[source_table]

    def get(self, source_table: str, source_id: object) -> Entry | None:
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
    ) -> None:
        key = str(source_id)
        table = self._table(source_table)
        values = {
            "target_table": target_table,
            "target_id": target_id,
            "source_checksum": checksum,
            "imported_at": at,
        }
        if key in table:
            db.session.execute(
                update(ImportMapping)
                .where(
                    ImportMapping.source == self.source,
                    ImportMapping.source_table == source_table,
                    ImportMapping.source_id == key,
                )
                .values(**values)
            )
        else:
            db.session.add(
                ImportMapping(
                    source=self.source, source_table=source_table, source_id=key, **values
                )
            )
        table[key] = Entry(target_table, target_id, checksum)

    def targets(self, source_table: str) -> Select[tuple[int]]:
        """The portal ids the rows of ``source_table`` became, as a subquery for the report's
        sums: ``select(func.sum(X.total)).where(X.id.in_(mappings.targets("tblx")))``."""
        return select(ImportMapping.target_id).where(
            ImportMapping.source == self.source, ImportMapping.source_table == source_table
        )

    def target_ids(self, source_table: str) -> dict[str, int]:
        """source id (as text) -> portal id of every imported row of ``source_table``."""
        return {key: entry.target_id for key, entry in self._table(source_table).items()}

    def forget_cache(self) -> None:
        """After a rollback the cached rows are stale (a dry run, a failed step)."""
        self._cache.clear()
