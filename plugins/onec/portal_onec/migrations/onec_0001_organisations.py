"""onec: organisations, information bases, base users and their access, licences, tickets

Revision ID: onec_0001
Revises:
Create Date: 2026-12-04 19:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "onec_0001"
down_revision = None
branch_labels = ("onec",)
depends_on = "0009_plugins"  # the core revision the plugin needs (it runs after it)


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "onec_organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("inn", sa.String(length=12), nullable=False),
        sa.Column("kpp", sa.String(length=9), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        _created_at(),
        _fk("onec_organisation", "client_id", "client", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_organisation")),
        sa.UniqueConstraint(
            "client_id", "inn", "kpp", name=op.f("uq_onec_organisation_client_id_inn_kpp")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_onec_organisation_client_id"), "onec_organisation", ["client_id"])
    op.create_index(
        "uq_onec_organisation_primary",
        "onec_organisation",
        ["client_id"],
        unique=True,
        sqlite_where=sa.text("is_primary"),
        postgresql_where=sa.text("is_primary"),
    )
    op.create_table(
        "onec_information_base",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("configuration", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        _created_at(),
        _fk("onec_information_base", "organisation_id", "onec_organisation", "CASCADE"),
        _fk("onec_information_base", "service_id", "service", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_information_base")),
        sa.UniqueConstraint(
            "organisation_id", "name", name=op.f("uq_onec_information_base_organisation_id_name")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_onec_information_base_organisation_id"),
        "onec_information_base",
        ["organisation_id"],
    )
    op.create_index(
        op.f("ix_onec_information_base_service_id"), "onec_information_base", ["service_id"]
    )
    op.create_table(
        "onec_base_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=False),
        _created_at(),
        _fk("onec_base_user", "client_id", "client", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_base_user")),
        sa.UniqueConstraint("client_id", "login", name=op.f("uq_onec_base_user_client_id_login")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_onec_base_user_client_id"), "onec_base_user", ["client_id"])
    op.create_table(
        "onec_base_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _created_at(),
        _fk("onec_base_access", "base_id", "onec_information_base", "CASCADE"),
        _fk("onec_base_access", "user_id", "onec_base_user", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_base_access")),
        sa.UniqueConstraint("base_id", "user_id", name=op.f("uq_onec_base_access_base_id_user_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_onec_base_access_base_id"), "onec_base_access", ["base_id"])
    op.create_index(op.f("ix_onec_base_access_user_id"), "onec_base_access", ["user_id"])
    op.create_table(
        "onec_licence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("product_line", sa.String(length=100), nullable=False),
        sa.Column("registration_number", sa.String(length=100), nullable=False),
        _created_at(),
        _fk("onec_licence", "service_id", "service", "CASCADE"),
        _fk("onec_licence", "organisation_id", "onec_organisation", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_licence")),
        sa.UniqueConstraint("service_id", name=op.f("uq_onec_licence_service_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_onec_licence_organisation_id"), "onec_licence", ["organisation_id"])
    op.create_index(op.f("ix_onec_licence_product_line"), "onec_licence", ["product_line"])
    op.create_table(
        "onec_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        _created_at(),
        _fk("onec_request", "task_id", "provisioning_task", "CASCADE"),
        _fk("onec_request", "ticket_id", "ticket", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_request")),
        sa.UniqueConstraint("task_id", name=op.f("uq_onec_request_task_id")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("onec_request")
    op.drop_table("onec_licence")
    op.drop_table("onec_base_access")
    op.drop_table("onec_base_user")
    op.drop_table("onec_information_base")
    op.drop_table("onec_organisation")
