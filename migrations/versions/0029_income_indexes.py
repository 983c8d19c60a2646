"""covering indexes for the income report (payments by currency, kind and date; allocations)

Revision ID: 0029_income_indexes
Revises: 0028_report_indexes
Create Date: 2026-12-04 20:20:00.000000

Chosen with EXPLAIN ANALYZE on the bench database of bench/reports.py (772 730 payments, each
allocated to its invoice). ``ix_payment_income`` puts the kind before the date, so the VAT of
payments and of refunds each read only their own kind's entries, and, on PostgreSQL, carries the
columns the income report reads, so the payment side is an index-only scan.
``ix_payment_allocation_payment`` (payment, invoice, amount) replaces the single-column index on
``payment_id``: the join from a period's payments to their allocations reads only the index.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0029_income_indexes'
down_revision = '0028_report_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_payment_income',
        'payment',
        ['currency', 'kind', 'payment_date'],
        unique=False,
        postgresql_include=['id', 'method', 'amount', 'client_id', 'credit_note_id'],
    )
    op.create_index(
        'ix_payment_allocation_payment',
        'payment_allocation',
        ['payment_id', 'invoice_id', 'amount'],
        unique=False,
    )
    op.drop_index('ix_payment_allocation_payment_id', table_name='payment_allocation')


def downgrade() -> None:
    op.create_index(
        'ix_payment_allocation_payment_id', 'payment_allocation', ['payment_id'], unique=False
    )
    op.drop_index('ix_payment_allocation_payment', table_name='payment_allocation')
    op.drop_index('ix_payment_income', table_name='payment')
