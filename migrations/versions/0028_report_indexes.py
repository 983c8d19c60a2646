"""indexes for the reports' aggregate queries (owed invoices, payments, renewals, tickets)

Revision ID: 0028_report_indexes
Revises: 0027_payment_fee
Create Date: 2026-12-04 19:00:00.000000

Chosen with EXPLAIN on the bench database of bench/reports.py (100 000 clients, 1 000 000
invoices). ``ix_invoice_owed`` is partial (only what clients owe, a small share of all invoices)
and, on PostgreSQL, covers the debtors report's columns, so the report is an index-only scan in
client order. The existing single-column indexes (invoice status and due date, payment date,
service next due date) stay: other queries use them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028_report_indexes'
down_revision = '0027_payment_fee'
branch_labels = None
depends_on = None

OWED = "status IN ('unpaid', 'partially_paid', 'collections')"


def upgrade() -> None:
    op.create_index(
        'ix_invoice_owed',
        'invoice',
        ['client_id', 'currency'],
        unique=False,
        postgresql_where=sa.text(OWED),
        sqlite_where=sa.text(OWED),
        postgresql_include=['kind', 'issue_date', 'due_date', 'total', 'amount_paid'],
    )
    op.create_index('ix_invoice_issue_date', 'invoice', ['issue_date'], unique=False)
    op.create_index(
        'ix_payment_currency_date',
        'payment',
        ['currency', 'payment_date'],
        unique=False,
        postgresql_include=['client_id', 'amount'],
    )
    op.create_index(
        'ix_service_status_next_due_date', 'service', ['status', 'next_due_date'], unique=False
    )
    op.create_index('ix_ticket_created_at', 'ticket', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ticket_created_at', table_name='ticket')
    op.drop_index('ix_service_status_next_due_date', table_name='service')
    op.drop_index('ix_payment_currency_date', table_name='payment')
    op.drop_index('ix_invoice_issue_date', table_name='invoice')
    op.drop_index('ix_invoice_owed', table_name='invoice')
