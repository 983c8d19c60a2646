"""The import mapping: which row of another system became which portal row, and how it looked.

One row per imported source row, unique on (source, source_table, source_id): a second run finds
the portal row it made the first time and updates it instead of adding a twin. The checksum of
the source row as last imported tells an unchanged row from a changed one without comparing
every column to the portal's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.model_base import Base, UTCDateTime


class ImportMapping(Base):
    __tablename__ = "import_mapping"
    __table_args__ = (
        UniqueConstraint("source", "source_table", "source_id"),
        Index("ix_import_mapping_target", "target_table", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The system imported from: ``whmcs``.
    source: Mapped[str] = mapped_column(String(20))
    source_table: Mapped[str] = mapped_column(String(64))
    #: The source row's key as text (WHMCS ids are integers; other systems may not be).
    source_id: Mapped[str] = mapped_column(String(64))
    target_table: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[int] = mapped_column(Integer)
    #: sha256 of the source row as last imported (:func:`portal.imports.mapping.row_checksum`).
    source_checksum: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
