"""settings_version: the token that tells processes their cached runtime settings are current

Revision ID: 0032_settings_version
Revises: 0031_counter_indexes
Create Date: 2026-12-04 20:45:00.000000
"""

import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0032_settings_version"
down_revision = "0031_counter_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "settings_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings_version")),
        sqlite_autoincrement=True,
    )
    op.bulk_insert(table, [{"id": 1, "token": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table("settings_version")
