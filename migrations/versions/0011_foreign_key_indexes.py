"""indexes on the foreign keys of growing tables (deleting or finding by the parent scanned them)

Revision ID: 0011_foreign_key_indexes
Revises: 0010_mail_composed_at_delivery
Create Date: 2026-11-23 17:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011_foreign_key_indexes'
down_revision = '0010_mail_composed_at_delivery'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_invoice_corrects_id'), 'invoice', ['corrects_id'], unique=False)
    op.create_index(op.f('ix_credit_entry_invoice_id'), 'credit_entry', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_credit_entry_payment_id'), 'credit_entry', ['payment_id'], unique=False)
    op.create_index(op.f('ix_invoice_line_service_id'), 'invoice_line', ['service_id'], unique=False)
    op.create_index(op.f('ix_late_fee_fee_invoice_id'), 'late_fee', ['fee_invoice_id'], unique=False)
    op.create_index(op.f('ix_outbound_attachment_invoice_id'), 'outbound_attachment', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_payment_allocation_payment_id'), 'payment_allocation', ['payment_id'], unique=False)
    op.create_index(op.f('ix_payment_refund_of_id'), 'payment', ['refund_of_id'], unique=False)
    op.create_index(op.f('ix_sales_order_invoice_id'), 'sales_order', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_sales_order_item_order_id'), 'sales_order_item', ['order_id'], unique=False)
    op.create_index(op.f('ix_sales_order_item_service_id'), 'sales_order_item', ['service_id'], unique=False)
    op.create_index(op.f('ix_promo_use_order_id'), 'promo_use', ['order_id'], unique=False)
    op.create_index(op.f('ix_promo_use_service_id'), 'promo_use', ['service_id'], unique=False)
    op.create_index(op.f('ix_service_addon_order_id'), 'service_addon', ['order_id'], unique=False)
    op.create_index(op.f('ix_service_change_order_id'), 'service_change', ['order_id'], unique=False)
    op.create_index(op.f('ix_provisioning_task_service_addon_id'), 'provisioning_task', ['service_addon_id'], unique=False)
    op.create_index(op.f('ix_todo_item_client_id'), 'todo_item', ['client_id'], unique=False)
    op.create_index(op.f('ix_client_referred_by_id'), 'client', ['referred_by_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_client_referred_by_id'), table_name='client')
    op.drop_index(op.f('ix_todo_item_client_id'), table_name='todo_item')
    op.drop_index(op.f('ix_provisioning_task_service_addon_id'), table_name='provisioning_task')
    op.drop_index(op.f('ix_service_change_order_id'), table_name='service_change')
    op.drop_index(op.f('ix_service_addon_order_id'), table_name='service_addon')
    op.drop_index(op.f('ix_promo_use_service_id'), table_name='promo_use')
    op.drop_index(op.f('ix_promo_use_order_id'), table_name='promo_use')
    op.drop_index(op.f('ix_sales_order_item_service_id'), table_name='sales_order_item')
    op.drop_index(op.f('ix_sales_order_item_order_id'), table_name='sales_order_item')
    op.drop_index(op.f('ix_sales_order_invoice_id'), table_name='sales_order')
    op.drop_index(op.f('ix_payment_refund_of_id'), table_name='payment')
    op.drop_index(op.f('ix_payment_allocation_payment_id'), table_name='payment_allocation')
    op.drop_index(op.f('ix_outbound_attachment_invoice_id'), table_name='outbound_attachment')
    op.drop_index(op.f('ix_late_fee_fee_invoice_id'), table_name='late_fee')
    op.drop_index(op.f('ix_invoice_line_service_id'), table_name='invoice_line')
    op.drop_index(op.f('ix_credit_entry_payment_id'), table_name='credit_entry')
    op.drop_index(op.f('ix_credit_entry_invoice_id'), table_name='credit_entry')
    op.drop_index(op.f('ix_invoice_corrects_id'), table_name='invoice')
