"""The plugin's own tables (prefix ``onec_``), created by its Alembic branch ``onec``.

A client account holds organisations (legal entities with INN/KPP); an organisation holds
information bases in the 1C cloud and licences; base users are the client's people, each given
access to some of its bases. What is sold (sessions, bases, licences) is a core ``Service`` of a
product whose Module is ``onec``: the tables here only say which organisation a base or a
licence belongs to and what the cloud knows about it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.plugin_api import Base, Client, Service, UTCDateTime


class BaseState(enum.StrEnum):
    """Where an information base is in its life: ``creating`` until the cloud (or the admins)
    confirm it, ``blocked`` while its service is suspended, ``deleted`` kept for history."""

    CREATING = "creating"
    ACTIVE = "active"
    BLOCKED = "blocked"
    DELETED = "deleted"


class Organisation(Base):
    """A legal entity of a client account. Exactly one organisation of a client is primary (a
    partial unique index holds it); INN and KPP are checked by the portal's requisites rules
    (``portal.plugin_api.validate_requisites``) before they get here."""

    __tablename__ = "onec_organisation"
    __table_args__ = (
        UniqueConstraint("client_id", "inn", "kpp"),
        Index(
            "uq_onec_organisation_primary",
            "client_id",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    inn: Mapped[str] = mapped_column(String(12))
    #: Empty for a sole proprietor (a 12-digit INN has no KPP).
    kpp: Mapped[str] = mapped_column(String(9), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    client: Mapped[Client] = relationship(Client, lazy="joined")
    bases: Mapped[list[InformationBase]] = relationship(
        back_populates="organisation", order_by="InformationBase.name"
    )
    licences: Mapped[list[Licence]] = relationship(back_populates="organisation")


class InformationBase(Base):
    """An information base (информационная база) in the cloud: a configuration from the list in
    the plugin's settings, the service (tariff) it is sold under, and its state."""

    __tablename__ = "onec_information_base"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("onec_organisation.id", ondelete="CASCADE"), index=True
    )
    #: The core service the base belongs to (a tariff that allows N bases, or a base product).
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("service.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    configuration: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default=BaseState.CREATING.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(back_populates="bases", lazy="joined")
    service: Mapped[Service | None] = relationship(Service)
    accesses: Mapped[list[BaseAccess]] = relationship(
        back_populates="base", cascade="all, delete-orphan"
    )

    @property
    def base_state(self) -> BaseState:
        return BaseState(self.state)

    @property
    def users(self) -> list[BaseUser]:
        return sorted((a.user for a in self.accesses), key=lambda user: user.login)


class BaseUser(Base):
    """A person of the client who logs in to the cloud: a login unique within the client
    account, and access to some of its bases."""

    __tablename__ = "onec_base_user"
    __table_args__ = (UniqueConstraint("client_id", "login"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    login: Mapped[str] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    accesses: Mapped[list[BaseAccess]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class BaseAccess(Base):
    """A user's access to a base (granted in the cloud by a provisioning command)."""

    __tablename__ = "onec_base_access"
    __table_args__ = (UniqueConstraint("base_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    base_id: Mapped[int] = mapped_column(
        ForeignKey("onec_information_base.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("onec_base_user.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    base: Mapped[InformationBase] = relationship(back_populates="accesses")
    user: Mapped[BaseUser] = relationship(back_populates="accesses", lazy="joined")


class Licence(Base):
    """A licence: the core service (product of Module ``onec`` whose product fields say kind
    ``licence`` and its product line) bought for an organisation, with the registration number
    the vendor gave it. Its period and renewal are the service's; within a client account the
    licences of one product line share one period (co-terminated by the core)."""

    __tablename__ = "onec_licence"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), unique=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("onec_organisation.id", ondelete="SET NULL"), index=True
    )
    #: Copied from the product when the licence is created, so reports group without the catalogue.
    product_line: Mapped[str] = mapped_column(String(100), default="", index=True)
    registration_number: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    service: Mapped[Service] = relationship(Service, lazy="joined")
    organisation: Mapped[Organisation | None] = relationship(back_populates="licences")


class OnecRequest(Base):
    """The ticket the ``ticket`` backend opened for a provisioning command: re-checking the
    command finds it here instead of opening another one."""

    __tablename__ = "onec_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("provisioning_task.id", ondelete="CASCADE"), unique=True
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
