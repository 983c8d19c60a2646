"""queue of issued documents whose PDF is rendered and stored in the background

Revision ID: 0030_document_render
Revises: 0029_income_indexes
Create Date: 2026-12-04 20:50:00.000000

See portal/invoicing/stored_documents.py and docs/documents.md, "Stored PDFs".
"""
import sqlalchemy as sa
from alembic import op

import portal.core.model_base

# revision identifiers, used by Alembic.
revision = '0030_document_render'
down_revision = '0029_income_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'document_render',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('document', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column(
            'next_attempt_at', portal.core.model_base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('invoice_id', 'document'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_document_render_due', 'document_render', ['next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_document_render_due', table_name='document_render')
    op.drop_table('document_render')
