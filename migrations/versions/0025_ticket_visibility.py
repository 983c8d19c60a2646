"""ticket visibility: internal requests and plugins' provisioning tickets are staff-only

Revision ID: 0025_ticket_visibility
Revises: 0024_two_factor_for_clients
Create Date: 2026-12-04 16:00:00.000000

Existing tickets become staff-only when they were internal requests (opened by staff with a
note as the first message) or filed by a plugin (the first message written by the system on
the client's behalf, e.g. the disk-space plugin's provisioning tickets).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_ticket_visibility'
down_revision = '0024_two_factor_for_clients'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket') as batch_op:
        batch_op.add_column(
            sa.Column(
                'visibility',
                sa.Enum('client', 'staff', name='ticketvisibility', native_enum=False, length=20),
                nullable=False,
                server_default='client',
            )
        )
    op.execute(
        """
        UPDATE ticket SET visibility = 'staff'
        WHERE id IN (
            SELECT m.ticket_id FROM ticket_message m
            WHERE m.id = (SELECT min(f.id) FROM ticket_message f WHERE f.ticket_id = m.ticket_id)
              AND (
                (m.kind = 'note' AND m.staff_id IS NOT NULL)
                OR (m.kind = 'client' AND m.source = 'system')
              )
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table('ticket') as batch_op:
        batch_op.drop_column('visibility')
