"""onec: the renewal queue, the outcomes managers record, base usage and last use per service

Revision ID: onec_0002
Revises: onec_0001
Create Date: 2026-12-04 19:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

from portal.plugin_api import MoneyType

# revision identifiers, used by Alembic.
revision = "onec_0002"
down_revision = "onec_0001"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "onec_renewal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(30), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("next_contact", sa.Date(), nullable=True),
        sa.Column("reminded_for", sa.Date(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("revenue", MoneyType(precision=18, scale=4), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("queued_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("onec_renewal", "service_id", "service", "CASCADE"),
        _fk("onec_renewal", "client_id", "client", "CASCADE"),
        _fk("onec_renewal", "manager_id", "staff", "SET NULL"),
        _fk("onec_renewal", "invoice_id", "invoice", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_renewal")),
        sa.UniqueConstraint(
            "service_id", "period_end", name=op.f("uq_onec_renewal_service_id_period_end")
        ),
        sqlite_autoincrement=True,
    )
    for column in ("client_id", "period_end", "manager_id", "state", "next_contact"):
        op.create_index(op.f(f"ix_onec_renewal_{column}"), "onec_renewal", [column])
    op.create_table(
        "onec_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("renewal_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("next_contact", sa.Date(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        _fk("onec_outcome", "client_id", "client", "CASCADE"),
        _fk("onec_outcome", "service_id", "service", "CASCADE"),
        _fk("onec_outcome", "renewal_id", "onec_renewal", "CASCADE"),
        _fk("onec_outcome", "staff_id", "staff", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_outcome")),
        sqlite_autoincrement=True,
    )
    for column in ("client_id", "service_id", "renewal_id"):
        op.create_index(op.f(f"ix_onec_outcome_{column}"), "onec_outcome", [column])
    op.create_table(
        "onec_base_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        _fk("onec_base_usage", "base_id", "onec_information_base", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_base_usage")),
        sa.UniqueConstraint(
            "base_id", "login", "day", name=op.f("uq_onec_base_usage_base_id_login_day")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_onec_base_usage_base_id"), "onec_base_usage", ["base_id"])
    op.create_table(
        "onec_service_use",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        _fk("onec_service_use", "service_id", "service", "CASCADE"),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_onec_service_use")),
    )


def downgrade() -> None:
    op.drop_table("onec_service_use")
    op.drop_table("onec_base_usage")
    op.drop_table("onec_outcome")
    op.drop_table("onec_renewal")
