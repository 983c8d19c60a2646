"""The tables of the renewal queue and of the usage that tells inactive clients apart (prefix
``onec_``, created by the revision ``onec_0002`` of the plugin's branch).

A queue item is one period of one service: the unique key (service, last day of the period)
is what makes the daily job add it once however often it runs. The outcomes staff record are
history of the client (``onec_outcome``), kept when the item leaves the queue.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.plugin_api import Base, Client, MoneyType, Service, Staff, UTCDateTime


class RenewalState(enum.StrEnum):
    """Where a queue item is. ``open`` and ``not_renewed`` are the work queue (the period ends
    soon, or ended unpaid: Непродлённые); ``renewed`` and ``terminated`` (Расторгнутые) have
    left it."""

    OPEN = "open"
    NOT_RENEWED = "not_renewed"
    RENEWED = "renewed"
    TERMINATED = "terminated"


#: The states listed by default: what still needs a manager.
IN_WORK = (RenewalState.OPEN, RenewalState.NOT_RENEWED)

STATE_LABELS: dict[str, Any] = {
    RenewalState.OPEN.value: _l("In the queue"),
    # "Not renewed" and "Renewed" alone are the renewal-rate report's columns («Не продлено»,
    # «Продлено»); here they name the queue's states.
    RenewalState.NOT_RENEWED.value: lazy_pgettext("renewal queue", "Not renewed"),
    RenewalState.RENEWED.value: lazy_pgettext("renewal queue", "Renewed"),
    RenewalState.TERMINATED.value: _l("Terminated on refusal"),
}


class Renewal(Base):
    """A service whose period ends within its product's renewal window: a manager's work item
    until the renewal is paid, the period ends unpaid, or the client refuses."""

    __tablename__ = "onec_renewal"
    __table_args__ = (
        UniqueConstraint("service_id", "period_end"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    #: The last day the period covers (the service's next due date is the day after).
    period_end: Mapped[date] = mapped_column(Date, index=True)
    #: The client's manager when the item was queued; staff may hand it to another.
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(20), default=RenewalState.OPEN.value, index=True)
    #: The last outcome recorded (a code of ``portal_onec.outcomes.Outcome``), its comment
    #: and the date to contact the client again.
    outcome: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")
    next_contact: Mapped[date | None] = mapped_column(Date, index=True)
    #: The next-contact date the manager was reminded of (once per date).
    reminded_for: Mapped[date | None] = mapped_column(Date)
    #: The invoice that bills the next period (the billing run's renewal invoice).
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id", ondelete="SET NULL"))
    #: What the paid renewal brought (the lines of the service on the paid invoice).
    revenue: Mapped[Decimal | None] = mapped_column(MoneyType())
    currency: Mapped[str] = mapped_column(String(3))
    queued_on: Mapped[date] = mapped_column(Date)
    #: The day the item left the work queue (renewed, terminated) or became not renewed.
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    service: Mapped[Service] = relationship(Service, lazy="joined")
    client: Mapped[Client] = relationship(Client, lazy="joined")
    manager: Mapped[Staff | None] = relationship(Staff, lazy="joined")

    @property
    def renewal_state(self) -> RenewalState:
        return RenewalState(self.state)


class OutcomeRecord(Base):
    """One outcome a manager recorded for a client's service: on a renewal (``renewal_id``) or
    on an inactive licence (``renewal_id`` empty). The client's history of outcomes."""

    __tablename__ = "onec_outcome"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    renewal_id: Mapped[int | None] = mapped_column(
        ForeignKey("onec_renewal.id", ondelete="CASCADE"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")
    next_contact: Mapped[date | None] = mapped_column(Date)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    service: Mapped[Service] = relationship(Service, lazy="joined")
    staff: Mapped[Staff | None] = relationship(Staff, lazy="joined")


class BaseUsage(Base):
    """Use of an information base by one login on one day, as the cloud's export reports it:
    the sessions and the last moment seen. Importing the same export again changes nothing."""

    __tablename__ = "onec_base_usage"
    __table_args__ = (
        UniqueConstraint("base_id", "login", "day"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    base_id: Mapped[int] = mapped_column(
        ForeignKey("onec_information_base.id", ondelete="CASCADE"), index=True
    )
    login: Mapped[str] = mapped_column(String(100))
    day: Mapped[date] = mapped_column(Date)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ServiceUse(Base):
    """The last use of a service (a licence through its organisation's bases, a tariff or a
    base through its own bases), kept up to date by the import so that the inactive list is one
    query."""

    __tablename__ = "onec_service_use"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime())
