"""refunds lower the payment allocations they give back (issue #14)

An invoice's paid amount is now the sum of its allocations and the credit applied to it; a
refund used to lower only the invoice's ``amount_paid``. Each refunded payment's allocations are
lowered by what was refunded, newest allocation first, as the refund took it. Amounts are moved
as stored (integer units on SQLite, numeric on PostgreSQL), never converted.

Revision ID: 0017_money_consistency
Revises: 0016_sqlite_autoincrement
Create Date: 2026-12-04 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_money_consistency'
down_revision = '0016_sqlite_autoincrement'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    refunded = bind.execute(
        sa.text("SELECT id, refunded FROM payment WHERE refunded > 0 ORDER BY id")
    ).all()
    for payment_id, left in refunded:
        allocations = bind.execute(
            sa.text(
                "SELECT id, amount FROM payment_allocation WHERE payment_id = :payment "
                "ORDER BY id DESC"
            ),
            {"payment": payment_id},
        ).all()
        for allocation_id, amount in allocations:
            take = min(left, amount)
            if take <= 0:
                continue
            bind.execute(
                sa.text("UPDATE payment_allocation SET amount = amount - :take WHERE id = :id"),
                {"take": take, "id": allocation_id},
            )
            left -= take


def downgrade() -> None:
    # The refunds stay recorded on the payments and invoices; the allocations' original amounts
    # are not needed by the code before this revision except to show them, so they stay lowered.
    pass
