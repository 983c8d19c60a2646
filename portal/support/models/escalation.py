"""Escalation rules and the record of automatic actions taken on tickets.

A rule says: after ``minutes`` without a reply while the ticket is in one of ``statuses`` (and,
optionally, in a department and at a priority), change the priority, reassign, notify. Every
automatic action on a ticket (a rule firing, an auto-close) inserts a ``TicketAutomationRun``
with a unique ``(ticket_id, key)`` in the same transaction as the action, so it happens exactly
once however often and however many schedulers run it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.model_base import Base, TimestampMixin, UTCDateTime, enum_column
from portal.support.models.ticket import TicketPriority

if TYPE_CHECKING:
    from portal.accounts.models.department import Department
    from portal.accounts.models.staff import Staff


class EscalationRule(TimestampMixin, Base):
    __tablename__ = "escalation_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Conditions: department (None: any), statuses and priorities (empty: any).
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE")
    )
    statuses: Mapped[list[str]] = mapped_column(JSON, default=list)
    priorities: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Minutes since the last reply (client's or staff's).
    minutes: Mapped[int] = mapped_column(Integer)
    # Actions
    set_priority: Mapped[TicketPriority | None] = mapped_column(enum_column(TicketPriority))
    set_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    set_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    notify_assignee: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_emails: Mapped[list[str]] = mapped_column(JSON, default=list)

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    set_department: Mapped[Department | None] = relationship(foreign_keys=[set_department_id])
    set_staff: Mapped[Staff | None] = relationship()


class TicketAutomationRun(Base):
    __tablename__ = "ticket_automation_run"
    __table_args__ = (UniqueConstraint("ticket_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    #: "escalation:<rule id>" or "auto_close:<time of the answer>".
    key: Mapped[str] = mapped_column(String(100))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_rule.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
