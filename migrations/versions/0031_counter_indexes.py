"""partial indexes for the admin header counters (overdue invoices, tickets awaiting reply)

Revision ID: 0031_counter_indexes
Revises: 0030_document_render
Create Date: 2026-12-04 20:45:00.000000

Every admin page counts overdue invoices, pending orders and tickets awaiting a reply. Measured
with EXPLAIN ANALYZE on the bench database of bench/reports.py (1 000 000 invoices, 90 908 of
them unpaid or partly paid): the overdue count was a bitmap scan of ``ix_invoice_status`` and a
heap visit of every open invoice (51-55 ms); with ``ix_invoice_overdue`` and ``count(*)`` it is
an index-only scan of the open invoices past due (6.3 ms), whatever the number of paid ones.
``ix_ticket_awaiting`` does the same for tickets (3.0 ms -> 0.7 ms on 50 000 tickets). Pending
orders need no new index: ``count(*)`` makes ``ix_sales_order_status`` an index-only scan.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0031_counter_indexes'
down_revision = '0030_document_render'
branch_labels = None
depends_on = None

OVERDUE_SQL = "status IN ('unpaid', 'partially_paid')"
AWAITING_SQL = "status IN ('open', 'customer_reply') AND merged_into_id IS NULL"


def upgrade() -> None:
    op.create_index(
        'ix_invoice_overdue',
        'invoice',
        ['due_date'],
        unique=False,
        postgresql_where=sa.text(OVERDUE_SQL),
        sqlite_where=sa.text(OVERDUE_SQL),
    )
    op.create_index(
        'ix_ticket_awaiting',
        'ticket',
        ['status'],
        unique=False,
        postgresql_where=sa.text(AWAITING_SQL),
        sqlite_where=sa.text(AWAITING_SQL),
    )


def downgrade() -> None:
    op.drop_index('ix_ticket_awaiting', table_name='ticket')
    op.drop_index('ix_invoice_overdue', table_name='invoice')
