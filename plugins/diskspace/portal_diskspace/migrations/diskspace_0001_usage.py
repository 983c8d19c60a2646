"""diskspace: daily usage samples and the tickets opened for provisioning commands

Revision ID: diskspace_0001
Revises:
Create Date: 2026-11-24 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "diskspace_0001"
down_revision = None
branch_labels = ("diskspace",)
depends_on = "0009_plugins"  # the core revision the plugin needs (it runs after it)


def upgrade() -> None:
    op.create_table(
        "diskspace_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used_bytes", sa.BigInteger(), nullable=False),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_diskspace_usage_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diskspace_usage")),
        sa.UniqueConstraint("service_id", "day", name=op.f("uq_diskspace_usage_service_id_day")),
    )
    op.create_table(
        "diskspace_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["provisioning_task.id"],
            name=op.f("fk_diskspace_request_task_id_provisioning_task"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name=op.f("fk_diskspace_request_ticket_id_ticket"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diskspace_request")),
        sa.UniqueConstraint("task_id", name=op.f("uq_diskspace_request_task_id")),
    )


def downgrade() -> None:
    op.drop_table("diskspace_request")
    op.drop_table("diskspace_usage")
