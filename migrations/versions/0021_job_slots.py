"""job runs: the scheduled slot a run is for, unique per job

Revision ID: 0021_job_slots
Revises: 0019_outbox_claims
Create Date: 2026-12-04 15:40:00.000000

Two schedulers (or web nodes with the embedded scheduler) fire the same cron slot; the lease
keeps them from running at once, and the unique (job, slot) key keeps the later one from running
the slot again once the first has finished. Runs started by hand have no slot (NULLs never
collide).
"""
from alembic import op
import sqlalchemy as sa

import portal.core.model_base


# revision identifiers, used by Alembic.
revision = '0021_job_slots'
down_revision = '0019_outbox_claims'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN and CREATE INDEX: no table rebuild on SQLite (which would
    # lose its AUTOINCREMENT, migration 0016).
    op.add_column('job_run', sa.Column('slot', portal.core.model_base.UTCDateTime(timezone=True), nullable=True))
    op.create_index('uq_job_run_slot', 'job_run', ['job_id', 'slot'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_job_run_slot', table_name='job_run')
    with op.batch_alter_table('job_run', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('slot')
