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

#: Audit entities whose table has another name.
ENTITY_TABLES = {'order': 'sales_order'}


def _tables(bind: sa.Connection, *, autoincrement: bool) -> list[str]:
    """The tables whose id is a rowid (one INTEGER primary key that is not also a foreign key:
    where SQLite allows AUTOINCREMENT and SQLAlchemy writes it), with or without it now.

    Found in the database rather than listed, so that tables added by revisions the coordinator
    chains before this one, and plugins' tables, are covered too."""
    inspector = sa.inspect(bind)
    found = []
    for name in inspector.get_table_names():
        if name == 'alembic_version' or name.startswith('sqlite_'):
            continue
        key = inspector.get_pk_constraint(name)['constrained_columns']
        types = {column['name']: column['type'] for column in inspector.get_columns(name)}
        referencing = {
            column
            for foreign in inspector.get_foreign_keys(name)
            for column in foreign['constrained_columns']
        }
        if len(key) != 1 or key[0] in referencing or not isinstance(types[key[0]], sa.Integer):
            continue
        sql = bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {'name': name},
        ).scalar_one()
        if ('AUTOINCREMENT' in sql.upper()) == autoincrement:
            found.append(name)
    return found


def _rebuild(tables: list[str], *, autoincrement: bool) -> None:
    for name in tables:
        with op.batch_alter_table(
            name,
            recreate='always',
            table_kwargs={'sqlite_autoincrement': autoincrement},
            reflect_kwargs={'resolve_fks': False},
        ):
            pass


def _highest_ids_used(bind: sa.Connection, tables: list[str]) -> dict[str, int]:
    """The highest id of each table that a row or an audit entry has ever named."""
    highest = {}
    for name in tables:
        key = sa.inspect(bind).get_pk_constraint(name)['constrained_columns'][0]
        highest[name] = bind.execute(
            sa.text(f'SELECT coalesce(max("{key}"), 0) FROM "{name}"')
        ).scalar_one()
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
    if 'client' in highest:
        highest['client'] = max(highest['client'], int(client_top or 0))
    return highest


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    tables = _tables(bind, autoincrement=False)
    _rebuild(tables, autoincrement=True)
    for name, top in _highest_ids_used(bind, tables).items():
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
    tables = _tables(bind, autoincrement=True)
    _rebuild(tables, autoincrement=False)
    for name in tables:
        bind.execute(sa.text('DELETE FROM sqlite_sequence WHERE name = :name'), {'name': name})
