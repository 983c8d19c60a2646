"""Service levels: business hours with holidays, and response/resolution targets.

A target is counted in working minutes of its business hours (none: round the clock). The policy
for a ticket is the most specific one: department and client group, then client group (a
contract with a group of clients), then department, then the defaults from the settings
(first response within 2 hours, resolution within a day).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.model_base import Base, enum_column
from portal.support.models.ticket import TicketPriority

if TYPE_CHECKING:
    from portal.accounts.models.client import ClientGroup
    from portal.accounts.models.department import Department


class BusinessHours(Base):
    """A weekly schedule in a time zone, minus holidays.

    ``weekly`` maps the ISO weekday number as a string ("1" Monday … "7" Sunday) to a list of
    ``["09:00", "18:00"]`` intervals; ``holidays`` is a list of ISO dates ("2026-01-07").
    """

    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(50), default="Europe/Moscow")
    weekly: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON, default=dict)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)


class SlaPolicy(Base):
    __tablename__ = "sla_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE")
    )
    client_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_group.id", ondelete="CASCADE")
    )
    first_response_minutes: Mapped[int] = mapped_column(Integer, default=120)
    resolution_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    business_hours_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_hours.id", ondelete="SET NULL")
    )
    #: Priority given to new tickets under this policy (a contract's priority), or None.
    priority: Mapped[TicketPriority | None] = mapped_column(enum_column(TicketPriority))

    department: Mapped[Department | None] = relationship()
    client_group: Mapped[ClientGroup | None] = relationship()
    business_hours: Mapped[BusinessHours | None] = relationship()
