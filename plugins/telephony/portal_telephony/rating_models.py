"""The rating side's tables (revision ``telephony_0002``): tariffs with destinations, prefixes
and dated rates, the minutes included in a plan, each client's telephony terms (prepaid or
postpaid, coefficients, thresholds), the rated calls, the rejects queue, CDR imports and the
PBXs that post CDRs over HTTP. plugins/telephony/README.md, "Rating", explains the rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.plugin_api import Base, MoneyType, UTCDateTime


class Tariff(Base):
    """A price list of destinations. ``night_start``/``night_end`` ("22:00", "08:00") and
    weekends are read in ``time_zone``; calls shorter than ``free_under`` seconds are free."""

    __tablename__ = "telephony_tariff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    free_under: Mapped[int] = mapped_column(Integer, default=3)
    night_start: Mapped[str] = mapped_column(String(5), default="22:00")
    night_end: Mapped[str] = mapped_column(String(5), default="08:00")
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Destination(Base):
    __tablename__ = "telephony_destination"
    __table_args__ = (UniqueConstraint("tariff_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tariff_id: Mapped[int] = mapped_column(
        ForeignKey("telephony_tariff.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    #: Lines of a postpaid invoice and the included minutes' groups: "local", "mobile"...
    group_name: Mapped[str] = mapped_column(String(60))


class Prefix(Base):
    __tablename__ = "telephony_prefix"

    id: Mapped[int] = mapped_column(primary_key=True)
    destination_id: Mapped[int] = mapped_column(
        ForeignKey("telephony_destination.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(15))


class Rate(Base):
    """The price of a destination from ``effective_from`` until the next rate's moment."""

    __tablename__ = "telephony_rate"
    __table_args__ = (UniqueConstraint("destination_id", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    destination_id: Mapped[int] = mapped_column(
        ForeignKey("telephony_destination.id", ondelete="CASCADE"), index=True
    )
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    per_minute: Mapped[Decimal] = mapped_column(MoneyType(12, 4))
    connect_fee: Mapped[Decimal] = mapped_column(MoneyType(12, 4), default=Decimal(0))
    first_increment: Mapped[int] = mapped_column(Integer, default=60)
    next_increment: Mapped[int] = mapped_column(Integer, default=60)
    minimum_charge: Mapped[Decimal] = mapped_column(MoneyType(12, 4), default=Decimal(0))
    night_per_minute: Mapped[Decimal | None] = mapped_column(MoneyType(12, 4))
    weekend_per_minute: Mapped[Decimal | None] = mapped_column(MoneyType(12, 4))


class IncludedMinutes(Base):
    """Minutes a plan (a product) includes each period, for some destination groups
    (comma-separated ``groups``; empty: every destination)."""

    __tablename__ = "telephony_included_minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    minutes: Mapped[int] = mapped_column(Integer)
    groups: Mapped[str] = mapped_column(String(255), default="")


class ClientTerms(Base):
    """A client's telephony terms. Prepaid calls are debited from the core's credit balance as
    they are rated; postpaid calls go on the renewal invoice of the client's calls service.
    Coefficients carry 4 decimals per component (MangoBilling): ``duration`` multiplies call
    costs here; ``recurring`` and ``setup`` are kept for the plan's prices."""

    __tablename__ = "telephony_client_terms"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), primary_key=True
    )
    prepaid: Mapped[bool] = mapped_column(Boolean, default=True)
    tariff_id: Mapped[int | None] = mapped_column(
        ForeignKey("telephony_tariff.id", ondelete="SET NULL")
    )
    coefficient_recurring: Mapped[Decimal] = mapped_column(MoneyType(8, 4), default=Decimal(1))
    coefficient_setup: Mapped[Decimal] = mapped_column(MoneyType(8, 4), default=Decimal(1))
    coefficient_duration: Mapped[Decimal] = mapped_column(MoneyType(8, 4), default=Decimal(1))
    low_balance: Mapped[Decimal] = mapped_column(MoneyType(12, 2), default=Decimal("100.00"))
    #: How far below zero a prepaid balance may go before the services are blocked.
    credit_limit: Mapped[Decimal] = mapped_column(MoneyType(12, 2), default=Decimal(0))
    low_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Counts the low-balance crossings: the e-mail's dedupe key, one letter per crossing.
    crossings: Mapped[int] = mapped_column(Integer, default=0)


class Call(Base):
    """A rated call. ``call_id`` (the PBX's unique id or a digest of the row, prefixed with the
    source) is unique: the same record imported twice is written and charged once."""

    __tablename__ = "telephony_call"
    __table_args__ = (
        Index("ix_telephony_call_client_started", "client_id", "started_at"),
        Index("ix_telephony_call_service_started", "service_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(120), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="SET NULL"))
    src: Mapped[str] = mapped_column(String(40))
    dst: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    billsec: Mapped[int] = mapped_column(Integer)
    billed_seconds: Mapped[int] = mapped_column(Integer)
    included_seconds: Mapped[int] = mapped_column(Integer, default=0)
    destination: Mapped[str] = mapped_column(String(120))
    group_name: Mapped[str] = mapped_column(String(60))
    cost: Mapped[Decimal] = mapped_column(MoneyType(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    prepaid: Mapped[bool] = mapped_column(Boolean)
    import_id: Mapped[int | None] = mapped_column(Integer)


class Reject(Base):
    """A CDR that could not be rated, with the reason; re-rated from the queue after a fix."""

    __tablename__ = "telephony_reject"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(120), unique=True)
    reason: Mapped[str] = mapped_column(String(40), index=True)
    fmt: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(60))
    raw: Mapped[str] = mapped_column(Text)
    line: Mapped[int] = mapped_column(Integer, default=0)
    import_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CdrImport(Base):
    """One file being imported (CLI, upload, watched folder): the progress staff poll."""

    __tablename__ = "telephony_cdr_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(Text)
    fmt: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Pbx(Base):
    """A PBX allowed to post CDRs (``/telephony/api/cdrs``) with its token; only the token's
    SHA-256 is stored, the token is shown once."""

    __tablename__ = "telephony_pbx"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
