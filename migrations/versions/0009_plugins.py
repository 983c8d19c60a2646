"""plugins: plugin settings, plugin fields on products

Revision ID: 0009_plugins
Revises: 0008_automation
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_plugins'
down_revision = '0008_automation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plugin_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plugin', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('encrypted', sa.Boolean(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_setting')),
    sa.UniqueConstraint('plugin', 'key', name=op.f('uq_plugin_setting_plugin_key'))
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plugin_fields', sa.JSON(), server_default='{}', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('plugin_fields')

    op.drop_table('plugin_setting')
