"""SQLite: ids are never reused (AUTOINCREMENT on every table with an integer id)

Revision ID: 0016_sqlite_autoincrement
Revises: 0015_client_pricing_rules
Create Date: 2026-12-03 16:40:00.000000

Without AUTOINCREMENT SQLite gives the next row the highest id that was deleted: the client
created after a merge took the merged client's id and showed its audit history. Each table is
rebuilt (copy, drop, rename: Alembic's batch "recreate") with its data, indexes and constraints;
foreign keys are off while migrations run on SQLite (migrations/env.py), so the drop cascades
nothing. The counters start above every id already used, including ids that the audit log still
names although their rows are gone. PostgreSQL never reuses sequence values: nothing to do there.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_sqlite_autoincrement'
down_revision = '0015_client_pricing_rules'
branch_labels = None
depends_on = None

#: The core's tables with an integer id as of 0015 (plugins' tables belong to their branches).
TABLES = (
    'addon', 'addon_price', 'audit_entry', 'bank_statement_file', 'billed_period', 'billing_run',
    'business_hours', 'canned_reply', 'client', 'client_discount', 'client_group',
    'client_tax_rule', 'config_option', 'config_option_choice', 'config_option_price', 'contact', 'credit_entry', 'custom_field', 'custom_field_value',
    'department', 'escalation_rule', 'invoice', 'invoice_line', 'invoice_reminder', 'job_run',
    'late_fee', 'mail_template', 'note', 'outbound_attachment', 'outbound_message',
    'overdue_action', 'payment', 'payment_allocation', 'plugin_setting', 'product',
    'product_group', 'product_price', 'promo_code', 'promo_use', 'provisioning_task', 'role',
    'sales_order', 'sales_order_item', 'service', 'service_addon', 'service_change',
    'service_option', 'sla_policy', 'staff', 'ticket', 'ticket_assignment', 'ticket_attachment',
    'ticket_automation_run', 'ticket_message', 'todo_item', 'unmatched_payment', 'upgrade_path',
)

#: Audit entities whose table has another name.
ENTITY_TABLES = {'order': 'sales_order'}


def _rebuild(autoincrement: bool) -> None:
    for name in TABLES:
        with op.batch_alter_table(
            name,
            recreate='always',
            table_kwargs={'sqlite_autoincrement': autoincrement},
            reflect_kwargs={'resolve_fks': False},
        ):
            pass


def _highest_ids_used(bind: sa.Connection) -> dict[str, int]:
    """The highest id of each table that a row or an audit entry has ever named."""
    highest = {
        name: bind.execute(sa.text(f'SELECT coalesce(max(id), 0) FROM "{name}"')).scalar_one()
        for name in TABLES
    }
    audited = bind.execute(
        sa.text(
            "SELECT entity, max(CAST(entity_id AS INTEGER)) FROM audit_entry "
            "WHERE entity_id <> '' AND entity_id NOT GLOB '*[^0-9]*' GROUP BY entity"
        )
    ).all()
    for entity, top in audited:
        table = ENTITY_TABLES.get(entity, entity)
        if table in highest and top is not None:
            highest[table] = max(highest[table], int(top))
    client_top = bind.execute(sa.text('SELECT max(client_id) FROM audit_entry')).scalar_one()
    highest['client'] = max(highest['client'], int(client_top or 0))
    return highest


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    _rebuild(autoincrement=True)
    for name, top in _highest_ids_used(bind).items():
        if not top:
            continue
        # Copying the rows set each counter to the highest id left; deleted ids go above it.
        bind.execute(sa.text('DELETE FROM sqlite_sequence WHERE name = :name'), {'name': name})
        bind.execute(
            sa.text('INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)'),
            {'name': name, 'seq': top},
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    _rebuild(autoincrement=False)
    names = ', '.join(f"'{name}'" for name in TABLES)
    bind.execute(sa.text(f'DELETE FROM sqlite_sequence WHERE name IN ({names})'))
