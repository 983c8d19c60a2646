"""The plugin's own tables (prefix ``telephony_``), created by its Alembic branch ``telephony``.

What is sold (a PBX plan with its seats, a SIP trunk, an add-on) is a core ``Service`` of a
product whose Module is ``telephony``; its price, seats (a quantity option), proration and
co-terming are the core's. The tables here hold what the core does not know: the pool of phone
numbers with their categories, states and history, and the tickets the ``ticket`` provisioning
backend opened. The rating side (tariffs, calls, balances) adds its own tables in revisions
``telephony_0002`` and later.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.plugin_api import Base, Client, MoneyType, Service, UTCDateTime


class NumberState(enum.StrEnum):
    """The life of a number in the pool (README.md, "Numbers"): ``free`` to be picked,
    ``reserved`` while an order for it waits for payment, ``assigned`` to a client's PBX,
    ``quarantine`` for some days after release (callers of the old holder still dial it),
    then ``free`` again."""

    FREE = "free"
    RESERVED = "reserved"
    ASSIGNED = "assigned"
    QUARANTINE = "quarantine"


class NumberCategory(Base):
    """A category of numbers (ordinary, bronze, silver, gold, platinum: the digit patterns are
    rules in :mod:`portal_telephony.categories`) and what a number of it costs: a connection fee
    charged once when it is assigned and a monthly fee billed with the PBX plan."""

    __tablename__ = "telephony_number_category"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    #: Ordering from the cheapest (0, ordinary) to the dearest.
    rank: Mapped[int] = mapped_column(Integer, default=0)
    connection_fee: Mapped[Decimal] = mapped_column(MoneyType())
    monthly_fee: Mapped[Decimal] = mapped_column(MoneyType())


class PhoneNumber(Base):
    """A number of the pool, in E.164 digits without '+' (``74951234567``). ``client_id`` and
    ``service_id`` are set while it is reserved or assigned; ``free_on`` is the first day a
    number in quarantine may be freed. A state change is one conditional UPDATE (the state it
    had is in the WHERE clause), so two clients never get the same number."""

    __tablename__ = "telephony_number"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    category: Mapped[str] = mapped_column(ForeignKey("telephony_number_category.code"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=NumberState.FREE.value, index=True)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("client.id", ondelete="SET NULL"), index=True
    )
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("service.id", ondelete="SET NULL"), index=True
    )
    #: The PBX extension the number rings (set by the client, sent to the PBX).
    extension: Mapped[str] = mapped_column(String(20), default="")
    free_on: Mapped[date | None] = mapped_column(Date)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    client: Mapped[Client | None] = relationship(Client)
    service: Mapped[Service | None] = relationship(Service)

    @property
    def number_state(self) -> NumberState:
        return NumberState(self.state)


class NumberEvent(Base):
    """One state change of a number: who held it (client, service) from when, who did it
    (``actor``: a staff e-mail, ``client``, ``system``) and why. The number's history page and
    "who held this number" read these rows."""

    __tablename__ = "telephony_number_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    number_id: Mapped[int] = mapped_column(
        ForeignKey("telephony_number.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The business date of the change: what billing reads (held on which days).
    day: Mapped[date] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("client.id", ondelete="SET NULL"), index=True
    )
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(255), default="")
    note: Mapped[str] = mapped_column(String(255), default="")

    client: Mapped[Client | None] = relationship(Client)


class TelephonyRequest(Base):
    """The ticket the ``ticket`` backend opened for a provisioning command: re-checking the
    command finds it here instead of opening another one."""

    __tablename__ = "telephony_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("provisioning_task.id", ondelete="CASCADE"), unique=True
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PbxBlock(Base):
    """A PBX service blocked at the PBX while the core service stays active: the rating side
    blocks a prepaid client whose balance reached zero (``provisioning.block_service``) and
    unblocks on top-up. One row per service; ``blocked`` says where it is now."""

    __tablename__ = "telephony_pbx_block"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(255), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
