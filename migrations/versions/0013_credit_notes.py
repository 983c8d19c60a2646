"""credit notes: how each was settled, and the refund paid out under one

Revision ID: 0013_credit_notes
Revises: 0012_invoice_seller
Create Date: 2026-12-03 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_credit_notes'
down_revision = '0012_invoice_seller'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settlement', sa.Enum('credit', 'refund', 'invoice', name='creditnotesettlement', native_enum=False, length=20), nullable=True))

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_note_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_payment_credit_note_id'), ['credit_note_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_payment_credit_note_id_invoice'), 'invoice', ['credit_note_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payment_credit_note_id_invoice'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payment_credit_note_id'))
        batch_op.drop_column('credit_note_id')

    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_column('settlement')
