"""dashboard counters kept by triggers: open invoices per due date, tickets awaiting a reply,
pending orders

Revision ID: 0036_counters
Revises: 0035_dashboard_figures
Create Date: 2026-12-04 23:20:00.000000

The header counters on every admin page counted rows: the overdue invoices an index scan over
every open invoice past due (16–41 ms at 1 000 000 invoices), the tickets awaiting a reply one
over every such ticket. ``dashboard_count`` keeps the running counts instead — open invoices
per due date (overdue = the sum of the buckets before today, as many rows as there are distinct
due dates, whatever the number of invoices), the tickets awaiting a reply and the pending
orders — maintained by row triggers on ``invoice``, ``ticket`` and ``sales_order`` in the
writer's own transaction, filled here from the rows present. docs/development.md,
"Dashboard figures". Also an index on service (product_id, status) for the 1C plugin's header
counter and a partial one on the awaiting tickets in the ticket list's order.

On SQLite a later ``batch_alter_table`` on ``invoice``, ``ticket`` or ``sales_order`` copies the
table and loses its triggers: such a migration must create them again (``create_triggers`` below).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0036_counters"
down_revision = "0035_dashboard_figures"
branch_labels = None
depends_on = None

AWAITING_SQL = "status IN ('open', 'customer_reply') AND merged_into_id IS NULL"

#: (table, counter, "open" condition on a row alias, bucket expression on it, watched columns)
COUNTED = (
    (
        "invoice",
        "invoices_open",
        "{r}.status IN ('unpaid', 'partially_paid') AND {r}.due_date IS NOT NULL",
        "{r}.due_date",
        ("status", "due_date"),
    ),
    (
        "ticket",
        "tickets_awaiting",
        "{r}.status IN ('open', 'customer_reply') AND {r}.merged_into_id IS NULL",
        "DATE '1970-01-01'",
        ("status", "merged_into_id"),
    ),
    ("sales_order", "orders_pending", "{r}.status = 'pending'", "DATE '1970-01-01'", ("status",)),
)


def _add(counter: str, bucket: str, step: int, dialect: str) -> str:
    """The statement adding ``step`` to a bucket; SQL built from this module's constants only."""
    if step < 0:  # never creates a row: a wipe that empties dashboard_count first stays empty
        return (
            f"UPDATE dashboard_count SET value = value - 1 "  # noqa: S608
            f"WHERE counter = '{counter}' AND bucket = {bucket};"
        )
    return (
        f"INSERT INTO dashboard_count (counter, bucket, value) "  # noqa: S608
        f"VALUES ('{counter}', {bucket}, 1) "
        f"ON CONFLICT (counter, bucket) DO UPDATE SET value = dashboard_count.value + 1;"
    )


def create_triggers(dialect: str) -> None:
    for table, counter, condition, bucket, columns in COUNTED:
        old, new = condition.format(r="OLD"), condition.format(r="NEW")
        old_bucket, new_bucket = bucket.format(r="OLD"), bucket.format(r="NEW")
        if dialect == "sqlite":
            old_bucket = old_bucket.replace("DATE '1970-01-01'", "'1970-01-01'")
            new_bucket = new_bucket.replace("DATE '1970-01-01'", "'1970-01-01'")
            watched = ", ".join(columns)
            changed = f"NOT (({old}) IS ({new}) AND {old_bucket} IS {new_bucket})"
            for name, event, when, body in (
                ("ins", "INSERT", new, _add(counter, new_bucket, 1, dialect)),
                ("del", "DELETE", old, _add(counter, old_bucket, -1, dialect)),
                (
                    "upd_old",
                    f"UPDATE OF {watched}",
                    f"({old}) AND {changed}",
                    _add(counter, old_bucket, -1, dialect),
                ),
                (
                    "upd_new",
                    f"UPDATE OF {watched}",
                    f"({new}) AND {changed}",
                    _add(counter, new_bucket, 1, dialect),
                ),
            ):
                op.execute(
                    f"CREATE TRIGGER dashboard_count_{table}_{name} AFTER {event} "
                    f"ON {table} FOR EACH ROW WHEN {when} BEGIN {body} END"
                )
            continue
        op.execute(f"""
CREATE FUNCTION dashboard_count_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_open boolean := false;
    is_open boolean := false;
BEGIN
    IF TG_OP <> 'INSERT' THEN was_open := coalesce({old}, false); END IF;
    IF TG_OP <> 'DELETE' THEN is_open := coalesce({new}, false); END IF;
    IF TG_OP = 'UPDATE' AND was_open = is_open
            AND {old_bucket} IS NOT DISTINCT FROM {new_bucket} THEN
        RETURN NULL;
    END IF;
    IF was_open THEN {_add(counter, old_bucket, -1, dialect)} END IF;
    IF is_open THEN {_add(counter, new_bucket, 1, dialect)} END IF;
    RETURN NULL;
END $$""")
        op.execute(
            f"CREATE TRIGGER dashboard_count_{table} AFTER INSERT OR DELETE OR UPDATE OF "
            f"{', '.join(columns)} ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION dashboard_count_{table}()"
        )


def drop_triggers(dialect: str) -> None:
    for table, *_rest in COUNTED:
        if dialect == "sqlite":
            for name in ("ins", "del", "upd_old", "upd_new"):
                op.execute(f"DROP TRIGGER IF EXISTS dashboard_count_{table}_{name}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS dashboard_count_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS dashboard_count_{table}()")


def upgrade() -> None:
    op.create_table(
        "dashboard_count",
        sa.Column("counter", sa.String(length=40), nullable=False),
        sa.Column("bucket", sa.Date(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("counter", "bucket", name=op.f("pk_dashboard_count")),
    )
    # the 1C plugin's header counter (inactive services) starts from the services of its
    # products: without this index a scan of every service (140 ms at 200 000)
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.create_index("ix_service_product_status", ["product_id", "status"], unique=False)
    # the admin ticket list's default queue, a page read in its order (response due, nulls
    # last) instead of sorting every awaiting ticket (37 ms at 10 000)
    op.create_index(
        "ix_ticket_awaiting_due",
        "ticket",
        ["response_due_at", "id"],
        unique=False,
        postgresql_where=sa.text(AWAITING_SQL),
        sqlite_where=sa.text(AWAITING_SQL),
    )
    dialect = op.get_bind().dialect.name
    create_triggers(dialect)
    undated = "'1970-01-01'" if dialect == "sqlite" else "DATE '1970-01-01'"
    for table, counter, condition, bucket, _columns in COUNTED:
        open_rows = condition.format(r=table)
        bucket_sql = bucket.format(r=table).replace("DATE '1970-01-01'", undated)
        op.execute(
            f"INSERT INTO dashboard_count (counter, bucket, value) "  # noqa: S608
            f"SELECT '{counter}', {bucket_sql}, count(*) FROM {table} WHERE {open_rows} "
            f"GROUP BY {bucket_sql}"
        )


def downgrade() -> None:
    drop_triggers(op.get_bind().dialect.name)
    op.drop_index("ix_ticket_awaiting_due", table_name="ticket")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_index("ix_service_product_status")
    op.drop_table("dashboard_count")
