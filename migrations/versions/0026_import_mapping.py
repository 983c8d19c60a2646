"""import mapping: which WHMCS (or other) row became which portal row

Revision ID: 0026_import_mapping
Revises: 0025_ticket_visibility
Create Date: 2026-12-04 19:00:00.000000

``portal import whmcs`` remembers every source row it imported, with a checksum of the row,
so a second run updates changed rows, adds new ones and leaves the rest alone
(docs/migrating-from-whmcs.md).
"""

import sqlalchemy as sa
from alembic import op

import portal.core.model_base

# revision identifiers, used by Alembic.
revision = "0026_import_mapping"
down_revision = "0025_ticket_visibility"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_table", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("target_table", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("source_checksum", sa.String(length=64), nullable=False),
        sa.Column("imported_at", portal.core.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_mapping")),
        sa.UniqueConstraint(
            "source",
            "source_table",
            "source_id",
            name=op.f("uq_import_mapping_source_source_table_source_id"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_import_mapping_target", "import_mapping", ["target_table", "target_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_import_mapping_target", table_name="import_mapping")
    op.drop_table("import_mapping")
