"""client pricing rules: personal discounts and client tax rules with a date window

Revision ID: 0015_client_pricing_rules
Revises: 0014_bank_statement_import
Create Date: 2026-12-03 16:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.core.column_types
import portal.core.model_base


# revision identifiers, used by Alembic.
revision = '0015_client_pricing_rules'
down_revision = '0014_bank_statement_import'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('client_discount',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('percent', 'coefficient', name='discountkind', native_enum=False, length=20), nullable=False),
    sa.Column('value', portal.core.column_types.MoneyType(precision=18, scale=4), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.Column('created_at', portal.core.model_base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_client_discount_client_id_client'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_client_discount_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_discount'))
    )
    with op.batch_alter_table('client_discount', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_discount_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_discount_product_id'), ['product_id'], unique=False)

    op.create_table('client_tax_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('percent', portal.core.column_types.MoneyType(precision=18, scale=4), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('product_types', sa.JSON(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', portal.core.model_base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_client_tax_rule_client_id_client'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_tax_rule'))
    )
    with op.batch_alter_table('client_tax_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_tax_rule_client_id'), ['client_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('client_tax_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_tax_rule_client_id'))

    op.drop_table('client_tax_rule')
    with op.batch_alter_table('client_discount', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_discount_product_id'))
        batch_op.drop_index(batch_op.f('ix_client_discount_client_id'))

    op.drop_table('client_discount')
