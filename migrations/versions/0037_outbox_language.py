"""outbound_message.language: the language a letter is written in, for staff reading it

Revision ID: 0037_outbox_language
Revises: 0036_counters
Create Date: 2026-12-04 23:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0037_outbox_language"
down_revision = "0036_counters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_message") as batch:
        batch.add_column(
            sa.Column("language", sa.String(length=10), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_column("language")
