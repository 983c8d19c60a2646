"""report_figures: the owners' dashboard's figures as last computed, marked stale on change

Revision ID: 0038_report_figures
Revises: 0037_outbox_language
Create Date: 2026-12-05 01:40:00.000000

Reports → the index computed MRR (twice), income, debtors and the charts over every service,
payment and invoice on each visit (about 0.3 s at 10 000 clients, seconds at 100 000). The
figures are kept in one row, marked stale by any ORM write to the rows they come from and
recomputed by the next visit (docs/performance.md, "Report figures").
"""

import sqlalchemy as sa
from alembic import op

from portal.core.model_base import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0038_report_figures"
down_revision = "0037_outbox_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_figures",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("computed_at", UTCDateTime(), nullable=True),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_report_figures")),
    )


def downgrade() -> None:
    op.drop_table("report_figures")
