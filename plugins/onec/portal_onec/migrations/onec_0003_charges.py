"""onec: additional charges (доп. начисления) for sessions and bases above the tariff

Revision ID: onec_0003
Revises: onec_0002
Create Date: 2026-12-04 19:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

from portal.plugin_api import MoneyType

# revision identifiers, used by Alembic.
revision = "onec_0003"
down_revision = "onec_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onec_additional_charge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("function", sa.String(20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("included", sa.Integer(), nullable=False),
        sa.Column("measured", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", MoneyType(), nullable=False),
        sa.Column("amount", MoneyType(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("refusal_comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
            name=op.f("fk_onec_additional_charge_client_id_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_onec_additional_charge_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
            name=op.f("fk_onec_additional_charge_invoice_id_invoice"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_additional_charge")),
        sa.UniqueConstraint(
            "service_id",
            "function",
            "period_start",
            name=op.f("uq_onec_additional_charge_service_id_function_period_start"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_onec_additional_charge_client_id"), "onec_additional_charge", ["client_id"]
    )
    op.create_index(
        op.f("ix_onec_additional_charge_invoice_id"), "onec_additional_charge", ["invoice_id"]
    )
    op.create_index(
        "ix_onec_additional_charge_state_due", "onec_additional_charge", ["state", "due_date"]
    )


def downgrade() -> None:
    op.drop_table("onec_additional_charge")
