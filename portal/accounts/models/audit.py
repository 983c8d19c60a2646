"""The audit log: who changed what, when, from where, with the values before and after.

Entries are written once and never changed. The ORM refuses to update or delete them (a
``before_flush`` guard and a check on bulk statements), and no view offers it. ``client_id`` is
a plain column, not a foreign key: the log must outlive a deleted client.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from portal.core.model_base import Base, UTCDateTime, enum_column


class ActorType(enum.StrEnum):
    STAFF = "staff"
    CLIENT = "client"
    SYSTEM = "system"


class AuditLogImmutableError(RuntimeError):
    """Raised when code tries to change or delete an audit entry."""


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_entity", "entity", "entity_id"),
        Index("ix_audit_entry_client_created", "client_id", "created_at"),
        # Keyset pages (migration 0033, docs/performance.md): the audit log and a client's log.
        Index("ix_audit_entry_created_id", "created_at", "id"),
        Index("ix_audit_entry_client_id_id", "client_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_type: Mapped[ActorType] = mapped_column(enum_column(ActorType))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    #: The actor's name as it was: renaming or deleting the account does not rewrite history.
    actor_name: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    #: "<entity>.<verb>", e.g. "client.update", "staff.block", "setting.update".
    action: Mapped[str] = mapped_column(String(100), index=True)
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for every field either side mentions, in a stable order."""
        before, after = self.before or {}, self.after or {}
        fields = list(before) + [name for name in after if name not in before]
        return [(name, before.get(name), after.get(name)) for name in fields]

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.entity}:{self.entity_id}>"


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditLogImmutableError("audit entries cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj):
            raise AuditLogImmutableError("audit entries cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is AuditEntry for mapper in state.all_mappers
    ):
        raise AuditLogImmutableError("audit entries cannot be changed or deleted")
