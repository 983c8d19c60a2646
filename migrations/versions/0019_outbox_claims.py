"""outbox: claims that a sender renews before each message, and the start of a failing round

Revision ID: 0019_outbox_claims
Revises: 0018_payment_reference_key
Create Date: 2026-12-04 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.core.model_base


# revision identifiers, used by Alembic.
revision = '0019_outbox_claims'
down_revision = '0018_payment_reference_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('failing_since', portal.core.model_base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_column('failing_since')
        batch_op.drop_column('claim_token')
        batch_op.drop_column('claimed_by')
