"""invoice: the seller's details as they were when it was issued

Revision ID: 0012_invoice_seller
Revises: 0011_foreign_key_indexes
Create Date: 2026-12-03 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_invoice_seller'
down_revision = '0011_foreign_key_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seller', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_column('seller')
