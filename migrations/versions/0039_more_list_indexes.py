"""indexes for the lists paged in their order since issue #17's second part

Revision ID: 0039_more_list_indexes
Revises: 0038_report_figures
Create Date: 2026-12-05 01:30:00.000000

Each index is one list's keyset order (portal/web/paging.py, docs/performance.md), behind the
equality column of its filter. The services list and the support queue "awaiting reply" put the
rows without a date last: their key reads a NULL as the far future (``coalesce(column,
'9999-12-31...')``, ``portal.web.paging.nulls_last``), a NOT NULL expression that a keyset can
compare and that an expression index reads in order. The awaiting queue's index replaces
``ix_ticket_awaiting_due`` (migration 0036), which read the same order off ``response_due_at``
for numbered pages.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0039_more_list_indexes"
down_revision = "0038_report_figures"
branch_labels = None
depends_on = None

AWAITING_SQL = "status IN ('open', 'customer_reply') AND merged_into_id IS NULL"
SERVICE_DUE = "coalesce(next_due_date, '9999-12-31')"
TICKET_DUE = "coalesce(response_due_at, '9999-12-31 00:00:00+00')"
TODO_DUE = "coalesce(due_date, '9999-12-31')"

INDEXES = (
    ("ix_note_client_important_created", "note", ["client_id", "important", "created_at", "id"]),
    ("ix_contact_client_first_name", "contact", ["client_id", "first_name", "id"]),
    ("ix_ticket_client_last_reply", "ticket", ["client_id", "last_reply_at", "id"]),
    ("ix_outbound_message_client_id_id", "outbound_message", ["client_id", "id"]),
    ("ix_canned_reply_title_id", "canned_reply", ["title", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.create_index("ix_service_due_order", "service", [sa.text(SERVICE_DUE), "id"])
    op.drop_index("ix_ticket_awaiting_due", table_name="ticket")
    op.create_index(
        "ix_ticket_awaiting_due_order",
        "ticket",
        [sa.text(TICKET_DUE), "id"],
        postgresql_where=sa.text(AWAITING_SQL),
        sqlite_where=sa.text(AWAITING_SQL),
    )
    op.create_index(
        "ix_todo_item_open_due",
        "todo_item",
        ["assignee_id", sa.text(TODO_DUE), "id"],
        postgresql_where=sa.text("done_at IS NULL"),
        sqlite_where=sa.text("done_at IS NULL"),
    )
    op.create_index(
        "ix_todo_item_open_due_all",
        "todo_item",
        [sa.text(TODO_DUE), "id"],
        postgresql_where=sa.text("done_at IS NULL"),
        sqlite_where=sa.text("done_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_todo_item_open_due_all", table_name="todo_item")
    op.drop_index("ix_todo_item_open_due", table_name="todo_item")
    op.drop_index("ix_ticket_awaiting_due_order", table_name="ticket")
    op.create_index(
        "ix_ticket_awaiting_due",
        "ticket",
        ["response_due_at", "id"],
        postgresql_where=sa.text(AWAITING_SQL),
        sqlite_where=sa.text(AWAITING_SQL),
    )
    op.drop_index("ix_service_due_order", table_name="service")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
