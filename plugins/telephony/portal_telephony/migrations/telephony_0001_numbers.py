"""telephony: number categories, the number pool and its history, provisioning tickets, PBX blocks

Revision ID: telephony_0001
Revises:
Create Date: 2026-12-04 22:00:00.000000

"""

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from portal.plugin_api import MoneyType, UTCDateTime

# revision identifiers, used by Alembic.
revision = "telephony_0001"
down_revision = None
branch_labels = ("telephony",)
depends_on = "0009_plugins"  # the core revision the plugin needs (it runs after it)

#: The fees a fresh install starts with (RUB, staff change them on the number pool page):
#: code, rank, connection fee, monthly fee. An ordinary city number: 2 200 once + 970/month.
CATEGORIES = (
    ("ordinary", 0, Decimal("2200.00"), Decimal("970.00")),
    ("bronze", 1, Decimal("5000.00"), Decimal("970.00")),
    ("silver", 2, Decimal("10000.00"), Decimal("1200.00")),
    ("gold", 3, Decimal("25000.00"), Decimal("1500.00")),
    ("platinum", 4, Decimal("50000.00"), Decimal("2500.00")),
)


def _fk(table: str, column: str, target: str, ondelete: str | None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.{'code' if target == 'telephony_number_category' else 'id'}"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    category = op.create_table(
        "telephony_number_category",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("connection_fee", MoneyType(), nullable=False),
        sa.Column("monthly_fee", MoneyType(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_telephony_number_category")),
    )
    op.bulk_insert(
        category,
        [
            {"code": c, "rank": r, "connection_fee": once, "monthly_fee": monthly}
            for c, r, once, monthly in CATEGORIES
        ],
    )
    op.create_table(
        "telephony_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("extension", sa.String(length=20), nullable=False),
        sa.Column("free_on", sa.Date(), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("telephony_number", "category", "telephony_number_category", None),
        _fk("telephony_number", "client_id", "client", "SET NULL"),
        _fk("telephony_number", "service_id", "service", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_number")),
        sa.UniqueConstraint("number", name=op.f("uq_telephony_number_number")),
        sqlite_autoincrement=True,
    )
    for column in ("category", "state", "client_id", "service_id"):
        op.create_index(op.f(f"ix_telephony_number_{column}"), "telephony_number", [column])
    op.create_table(
        "telephony_number_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=False),
        _fk("telephony_number_event", "number_id", "telephony_number", "CASCADE"),
        _fk("telephony_number_event", "client_id", "client", "SET NULL"),
        _fk("telephony_number_event", "service_id", "service", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_number_event")),
        sqlite_autoincrement=True,
    )
    for column in ("number_id", "day", "client_id"):
        op.create_index(
            op.f(f"ix_telephony_number_event_{column}"), "telephony_number_event", [column]
        )
    op.create_table(
        "telephony_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("telephony_request", "task_id", "provisioning_task", "CASCADE"),
        _fk("telephony_request", "ticket_id", "ticket", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_request")),
        sa.UniqueConstraint("task_id", name=op.f("uq_telephony_request_task_id")),
        sqlite_autoincrement=True,
    )

    op.create_table(
        "telephony_pbx_block",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        _fk("telephony_pbx_block", "service_id", "service", "CASCADE"),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_telephony_pbx_block")),
    )


def downgrade() -> None:
    op.drop_table("telephony_pbx_block")
    op.drop_table("telephony_request")
    op.drop_table("telephony_number_event")
    op.drop_table("telephony_number")
    op.drop_table("telephony_number_category")
