"""trigram indexes for the admin search (client names, company, e-mail, phone, INN; invoice
numbers; ticket subjects)

Revision ID: 0034_search_trgm
Revises: 0033_list_indexes
Create Date: 2026-12-04 22:00:00.000000

The admin search boxes look for a word anywhere in a column (``ILIKE '%word%'``,
portal/platform/search.py), which no b-tree serves: on 20 000 clients it read every row. On
PostgreSQL this creates the ``pg_trgm`` extension and a GIN ``gin_trgm_ops`` index on each
searched column, so the search is a bitmap index scan (figures in docs/development.md,
"Search"). ``CREATE EXTENSION`` needs a role allowed to create it (pg_trgm is a trusted
extension since PostgreSQL 13: a database owner may); where it cannot be created the migration
logs a warning and creates plain b-tree indexes of the same names, so the schema still matches
the models and the search still works, unindexed (after an administrator has run
``CREATE EXTENSION pg_trgm``, downgrading to 0032_settings_version and upgrading again builds the
trigram indexes). SQLite has no trigram index: it gets the plain indexes.

The downgrade drops the indexes and leaves the extension: it is per database and other
applications may use it.
"""
import logging

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0034_search_trgm'
down_revision = '0033_list_indexes'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

INDEXES = (
    *(
        (f"ix_client_search_{column}", "client", column)
        for column in ("first_name", "last_name", "company", "email", "phone", "inn")
    ),
    ("ix_invoice_search_number", "invoice", "number"),
    ("ix_ticket_search_subject", "ticket", "subject"),
)


def _trigram_available() -> bool:
    """Create pg_trgm if it is missing; False (and a warning) when this role may not."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as exc:
        log.warning(
            "pg_trgm could not be created (%s): the search indexes are plain b-tree indexes "
            "and the admin search scans the tables; see docs/development.md, 'Search'.",
            str(exc.orig).strip(),
        )
        return False
    return True


def upgrade() -> None:
    trigram = _trigram_available()
    for name, table, column in INDEXES:
        if trigram:
            op.create_index(
                name,
                table,
                [column],
                unique=False,
                postgresql_using='gin',
                postgresql_ops={column: 'gin_trgm_ops'},
                # no pending list: a search would read every row added since the last VACUUM
                postgresql_with={'fastupdate': 'off'},
            )
        else:
            op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
