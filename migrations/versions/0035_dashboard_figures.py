"""the admin dashboard's last money check: a job's latest run by an index probe

Revision ID: 0035_dashboard_figures
Revises: 0034_search_trgm
Create Date: 2026-12-04 22:15:00.000000

The admin dashboard shows the result of the latest ``billing.money_check`` run and the jobs page
the latest run of every job. Both took ``max(id) ... GROUP BY job_id`` over the whole run history,
which the scheduler grows by a row a minute (``mail.send``): linear in the history. With an index
on (job_id, id) the latest run of a job is ``max(id) WHERE job_id = ?``, one probe from the
index's end on both databases. It replaces the index on job_id alone, its prefix.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0035_dashboard_figures'
down_revision = '0034_search_trgm'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index('ix_job_run_job_latest', ['job_id', 'id'], unique=False)
        batch_op.drop_index('ix_job_run_job_id')


def downgrade() -> None:
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index('ix_job_run_job_id', ['job_id'], unique=False)
        batch_op.drop_index('ix_job_run_job_latest')
