"""example: greetings

Revision ID: example_0001
Revises:
Create Date: 2026-11-24 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "example_0001"
down_revision = None
branch_labels = ("example",)
depends_on = "0009_plugins"  # the core revision this plugin needs (it runs after it)


def upgrade() -> None:
    op.create_table(
        "example_greeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_example_greeting")),
    )


def downgrade() -> None:
    op.drop_table("example_greeting")
