"""outbox: letters composed at delivery (template and its variables' row ids)

Revision ID: 0010_mail_composed_at_delivery
Revises: 0009_plugins
Create Date: 2026-11-23 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_mail_composed_at_delivery'
down_revision = '0009_plugins'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('compose_args', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_column('compose_args')
        batch_op.drop_column('template')
