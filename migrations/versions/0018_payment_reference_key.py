"""payment.reference_key: the normal form of a payment's reference, unique per method

Revision ID: 0018_payment_reference_key
Revises: 0017_money_consistency
Create Date: 2026-12-04 16:00:00.000000

The key of each existing payment is filled in where its reference can be read
(portal/invoicing/payment_references.py): a bank payment order with its date ("п/п 701 от
03.12.2026 ИНН 7712345700"), a gateway's transaction id. A payment order typed without its date
("701") keeps no key; the import matches it by number, amount and date window. Where two
payments already share a key (the same order recorded twice before this change) only the first
gets it, so the unique index can be created; the others are left for staff to refund or merge.
The column and indexes (the key's, and payment_date's for finding a hand entry by its date)
are added in place: no table is rebuilt.
"""

from alembic import op
import sqlalchemy as sa

from portal.invoicing.payment_references import parse


# revision identifiers, used by Alembic.
revision = "0018_payment_reference_key"
down_revision = '0017_money_consistency'
branch_labels = None
depends_on = None

payment = sa.table(
    "payment",
    sa.column("id", sa.Integer),
    sa.column("method", sa.String),
    sa.column("reference", sa.String),
    sa.column("reference_key", sa.String),
)


def upgrade() -> None:
    op.add_column("payment", sa.Column("reference_key", sa.String(length=100), nullable=True))
    bind = op.get_bind()
    taken: set[tuple[str, str]] = set()
    rows = bind.execute(
        sa.select(payment.c.id, payment.c.method, payment.c.reference).order_by(payment.c.id)
    ).all()
    for row in rows:
        key = parse(row.method, row.reference).key
        if key is None or (row.method, key) in taken:
            continue
        taken.add((row.method, key))
        bind.execute(
            sa.update(payment).where(payment.c.id == row.id).values(reference_key=key[:100])
        )
    op.create_index(
        "uq_payment_method_reference_key", "payment", ["method", "reference_key"], unique=True
    )
    op.create_index("ix_payment_payment_date", "payment", ["payment_date"])


def downgrade() -> None:
    op.drop_index("ix_payment_payment_date", table_name="payment")
    op.drop_index("uq_payment_method_reference_key", table_name="payment")
    with op.batch_alter_table("payment") as batch_op:
        batch_op.drop_column("reference_key")
