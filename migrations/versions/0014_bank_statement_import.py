"""bank statement import: uploaded statement files and the unmatched payments queue

Revision ID: 0014_bank_statement_import
Revises: 0013_credit_notes
Create Date: 2026-12-03 17:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

import portal.core.model_base
import portal.core.column_types


# revision identifiers, used by Alembic.
revision = "0014_bank_statement_import"
down_revision = "0013_credit_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_statement_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("parser", sa.String(length=50), nullable=False),
        sa.Column("account", sa.String(length=34), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", portal.core.model_base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.core.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["staff.id"],
            name=op.f("fk_bank_statement_file_confirmed_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["staff.id"],
            name=op.f("fk_bank_statement_file_uploaded_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statement_file")),
        sa.UniqueConstraint("sha256", name=op.f("uq_bank_statement_file_sha256")),
    )
    with op.batch_alter_table("bank_statement_file", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_statement_file_confirmed_by_id"), ["confirmed_by_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bank_statement_file_uploaded_by_id"), ["uploaded_by_id"], unique=False
        )

    op.create_table(
        "unmatched_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", portal.core.column_types.MoneyType(), nullable=False),
        sa.Column("payer", sa.String(length=255), nullable=False),
        sa.Column("payer_inn", sa.String(length=12), nullable=False),
        sa.Column("payer_account", sa.String(length=34), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "linked",
                "credited",
                "dismissed",
                name="unmatchedstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("dismiss_reason", sa.Text(), nullable=False),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", portal.core.model_base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.core.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_unmatched_payment_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_unmatched_payment_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["staff.id"],
            name=op.f("fk_unmatched_payment_resolved_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["bank_statement_file.id"],
            name=op.f("fk_unmatched_payment_statement_id_bank_statement_file"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_payment")),
        sa.UniqueConstraint("reference", name=op.f("uq_unmatched_payment_reference")),
    )
    with op.batch_alter_table("unmatched_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unmatched_payment_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unmatched_payment_payer_inn"), ["payer_inn"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unmatched_payment_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unmatched_payment_resolved_by_id"), ["resolved_by_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unmatched_payment_statement_id"), ["statement_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_unmatched_payment_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unmatched_payment", schema=None) as batch_op:
        for name in (
            "status",
            "statement_id",
            "resolved_by_id",
            "payment_id",
            "payer_inn",
            "client_id",
        ):
            batch_op.drop_index(batch_op.f(f"ix_unmatched_payment_{name}"))
    op.drop_table("unmatched_payment")
    with op.batch_alter_table("bank_statement_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_statement_file_uploaded_by_id"))
        batch_op.drop_index(batch_op.f("ix_bank_statement_file_confirmed_by_id"))
    op.drop_table("bank_statement_file")
