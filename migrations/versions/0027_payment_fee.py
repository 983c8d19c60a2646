"""payment fee: what the gateway or bank kept of a payment

Revision ID: 0027_payment_fee
Revises: 0026_import_mapping
Create Date: 2026-12-04 19:10:00.000000

WHMCS records the gateway's fee of every transaction (``tblaccounts.fees``); payments imported
from it keep the figure, and a gateway that reports its fee can record it too. Existing
payments had no fee recorded: zero.
"""
from alembic import op
import sqlalchemy as sa

import portal.core.column_types


# revision identifiers, used by Alembic.
revision = '0027_payment_fee'
down_revision = '0026_import_mapping'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payment') as batch_op:
        batch_op.add_column(
            sa.Column(
                'fee',
                portal.core.column_types.MoneyType(precision=18, scale=4),
                nullable=False,
                server_default='0',
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('payment') as batch_op:
        batch_op.drop_column('fee')
