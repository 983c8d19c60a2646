"""Declarative base with a naming convention, so Alembic names constraints the same everywhere."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both databases (SQLite forgets the zone otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Every model's base. On SQLite its tables are ``AUTOINCREMENT``: ids are never reused.

    Without it SQLite hands the highest deleted id to the next row, so a client created after
    a merge took the merged client's id, and with it that client's audit history, documents
    and links. PostgreSQL never reuses sequence values. Migration 0016 rebuilt the existing
    tables; a new table's migration passes ``sqlite_autoincrement=True`` to ``create_table``.
    """

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("__table__")
        if isinstance(table, sa.Table):  # mapped classes; mixins and abstract bases have none
            table.kwargs["sqlite_autoincrement"] = True


class TimestampMixin:
    """Creation time; set by the service that creates the row from the injected clock."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def enum_column(enum_class: type[enum.Enum]) -> sa.Enum:
    """A portable enum column storing the members' *values* ("active"), checked on write."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def trigram_index(name: str, column: str) -> sa.Index:
    """A search index on ``column``: on PostgreSQL a GIN trigram index (``pg_trgm``), which
    serves ``ILIKE '%text%'``, without the pending list (``fastupdate = off``: a search would
    read every row inserted since the last VACUUM one by one); on SQLite a plain index of the
    same name, so the schema the migrations build matches the models on both
    (docs/development.md, "Search")."""
    return sa.Index(
        name,
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        postgresql_with={"fastupdate": "off"},
    )
