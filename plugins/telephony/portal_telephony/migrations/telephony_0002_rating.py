"""telephony: tariffs, destinations, prefixes, rates, included minutes, client terms, calls,
rejects, CDR imports, PBX tokens

Revision ID: telephony_0002
Revises: telephony_0001
Create Date: 2026-12-04 22:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

from portal.plugin_api import MoneyType, UTCDateTime

revision = "telephony_0002"
down_revision = "telephony_0001"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _pk(table: str, column: str = "id") -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(column, name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _money(name: str, precision: int = 12, scale: int = 4, nullable: bool = False) -> sa.Column:
    return sa.Column(name, MoneyType(precision, scale), nullable=nullable)


def upgrade() -> None:
    t = "telephony_tariff"
    op.create_table(
        t,
        _id(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("free_under", sa.Integer(), nullable=False),
        sa.Column("night_start", sa.String(5), nullable=False),
        sa.Column("night_end", sa.String(5), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        _pk(t),
        sa.UniqueConstraint("name", name=op.f(f"uq_{t}_name")),
        sqlite_autoincrement=True,
    )
    t = "telephony_destination"
    op.create_table(
        t,
        _id(),
        sa.Column("tariff_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("group_name", sa.String(60), nullable=False),
        _pk(t),
        _fk(t, "tariff_id", "telephony_tariff", "CASCADE"),
        sa.UniqueConstraint("tariff_id", "name", name=op.f(f"uq_{t}_tariff_id_name")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f(f"ix_{t}_tariff_id"), t, ["tariff_id"])
    t = "telephony_prefix"
    op.create_table(
        t,
        _id(),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(15), nullable=False),
        _pk(t),
        _fk(t, "destination_id", "telephony_destination", "CASCADE"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f(f"ix_{t}_destination_id"), t, ["destination_id"])
    t = "telephony_rate"
    op.create_table(
        t,
        _id(),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("effective_from", UTCDateTime(), nullable=False),
        _money("per_minute"),
        _money("connect_fee"),
        sa.Column("first_increment", sa.Integer(), nullable=False),
        sa.Column("next_increment", sa.Integer(), nullable=False),
        _money("minimum_charge"),
        _money("night_per_minute", nullable=True),
        _money("weekend_per_minute", nullable=True),
        _pk(t),
        _fk(t, "destination_id", "telephony_destination", "CASCADE"),
        sa.UniqueConstraint(
            "destination_id", "effective_from", name=op.f(f"uq_{t}_destination_id_effective_from")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f(f"ix_{t}_destination_id"), t, ["destination_id"])
    t = "telephony_included_minutes"
    op.create_table(
        t,
        _id(),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("groups", sa.String(255), nullable=False),
        _pk(t),
        _fk(t, "product_id", "product", "CASCADE"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f(f"ix_{t}_product_id"), t, ["product_id"])
    t = "telephony_client_terms"
    op.create_table(
        t,
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("prepaid", sa.Boolean(), nullable=False),
        sa.Column("tariff_id", sa.Integer(), nullable=True),
        _money("coefficient_recurring", 8, 4),
        _money("coefficient_setup", 8, 4),
        _money("coefficient_duration", 8, 4),
        _money("low_balance", 12, 2),
        _money("credit_limit", 12, 2),
        sa.Column("low_notified", sa.Boolean(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("crossings", sa.Integer(), nullable=False),
        _pk(t, "client_id"),
        _fk(t, "client_id", "client", "CASCADE"),
        _fk(t, "tariff_id", "telephony_tariff", "SET NULL"),
    )
    t = "telephony_call"
    op.create_table(
        t,
        _id(),
        sa.Column("call_id", sa.String(120), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("src", sa.String(40), nullable=False),
        sa.Column("dst", sa.String(40), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("billsec", sa.Integer(), nullable=False),
        sa.Column("billed_seconds", sa.Integer(), nullable=False),
        sa.Column("included_seconds", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(120), nullable=False),
        sa.Column("group_name", sa.String(60), nullable=False),
        _money("cost", 12, 2),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("prepaid", sa.Boolean(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        _pk(t),
        _fk(t, "client_id", "client", "CASCADE"),
        _fk(t, "service_id", "service", "SET NULL"),
        sa.UniqueConstraint("call_id", name=op.f(f"uq_{t}_call_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_telephony_call_client_started", t, ["client_id", "started_at"])
    op.create_index("ix_telephony_call_service_started", t, ["service_id", "started_at"])
    t = "telephony_reject"
    op.create_table(
        t,
        _id(),
        sa.Column("call_id", sa.String(120), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("fmt", sa.String(20), nullable=False),
        sa.Column("source", sa.String(60), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _pk(t),
        sa.UniqueConstraint("call_id", name=op.f(f"uq_{t}_call_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f(f"ix_{t}_reason"), t, ["reason"])
    t = "telephony_cdr_import"
    op.create_table(
        t,
        _id(),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("fmt", sa.String(20), nullable=False),
        sa.Column("source", sa.String(60), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        _pk(t),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f(f"ix_{t}_status"), t, ["status"])
    t = "telephony_pbx"
    op.create_table(
        t,
        _id(),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _pk(t),
        sa.UniqueConstraint("name", name=op.f(f"uq_{t}_name")),
        sa.UniqueConstraint("token_hash", name=op.f(f"uq_{t}_token_hash")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in (
        "telephony_pbx",
        "telephony_cdr_import",
        "telephony_reject",
        "telephony_call",
        "telephony_client_terms",
        "telephony_included_minutes",
        "telephony_rate",
        "telephony_prefix",
        "telephony_destination",
        "telephony_tariff",
    ):
        op.drop_table(table)
