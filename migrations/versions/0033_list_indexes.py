"""composite indexes for the keyset pages of the admin and client lists

Revision ID: 0033_list_indexes
Revises: 0032_settings_version
Create Date: 2026-12-04 22:00:00.000000

Lists page by ``(sort column, id)`` with ``WHERE (sort, id) < (...) ORDER BY sort DESC, id DESC
LIMIT 51`` (portal/web/paging.py, docs/performance.md). Each index below is one list's ordering,
behind its filter's equality column where it has one (a client's own invoices, payments, credit
movements, audit entries; a staff member's notes), so page 4 000 reads 51 index entries as page 1
does. Lists ordered by the id alone use the primary key.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0033_list_indexes'
down_revision = '0032_settings_version'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_invoice_client_issue', 'invoice', ['client_id', 'issue_date', 'id']),
    ('ix_invoice_client_paid', 'invoice', ['client_id', 'paid_date', 'id']),
    ('ix_payment_date_id', 'payment', ['payment_date', 'id']),
    ('ix_payment_client_date', 'payment', ['client_id', 'payment_date', 'id']),
    ('ix_credit_entry_client_id_id', 'credit_entry', ['client_id', 'id']),
    ('ix_client_last_name_id', 'client', ['last_name', 'id']),
    ('ix_client_company_id', 'client', ['company', 'id']),
    ('ix_client_created_id', 'client', ['created_at', 'id']),
    ('ix_audit_entry_created_id', 'audit_entry', ['created_at', 'id']),
    ('ix_audit_entry_client_id_id', 'audit_entry', ['client_id', 'id']),
    ('ix_ticket_last_reply_id', 'ticket', ['last_reply_at', 'id']),
    ('ix_note_author_created', 'note', ['author_id', 'created_at', 'id']),
    ('ix_unmatched_payment_day_id', 'unmatched_payment', ['day', 'id']),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
