"""Migration 0002: built-in roles are seeded, staff who existed before roles become
administrators (they could do everything until then), and the revision downgrades cleanly."""

import json
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade

from portal.accounts.models import BuiltinRole, Permission
from portal.accounts.models.permissions import BUILTIN_ROLES
from portal.core.extensions import db
from portal.testing.databases import fresh_database


def test_roles_are_seeded_and_existing_staff_become_administrators(
    make_app, tmp_path: Path
) -> None:
    with fresh_database(tmp_path, "_roles") as url:
        other: Flask = make_app(database_url=url)
        with other.app_context():
            upgrade(revision="0001_foundation")
            with db.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO staff (first_name, last_name, is_active, email, "
                        "password_hash, session_token, created_at) VALUES ('Анна', '', :t, "
                        "'old@example.com', 'x', 'y', '2026-01-01 00:00:00+00:00')"
                    ),
                    {"t": True},
                )
            upgrade(revision="0002_staff_roles_audit")
            with db.engine.connect() as connection:
                roles = {
                    row.key: (row.name, row.permissions)
                    for row in connection.execute(sa.text("SELECT * FROM role"))
                }
                role_of_old = connection.execute(
                    sa.text(
                        "SELECT role.key FROM staff JOIN role ON role.id = staff.role_id "
                        "WHERE staff.email = 'old@example.com'"
                    )
                ).scalar_one()
            assert role_of_old == BuiltinRole.ADMINISTRATOR
            assert set(roles) == {key.value for key in BuiltinRole}
            for key, (name, _description, permissions) in BUILTIN_ROLES.items():
                stored_name, stored = roles[key.value]
                if isinstance(stored, str):  # raw SQL on SQLite hands JSON back as text
                    stored = json.loads(stored)
                assert stored_name == name and set(stored) == {p.value for p in permissions}
            assert len(BUILTIN_ROLES[BuiltinRole.ADMINISTRATOR][2]) == len(Permission)
            downgrade(revision="0001_foundation")
            with db.engine.connect() as connection:
                tables = set(sa.inspect(connection).get_table_names())
            assert "role" not in tables and "audit_entry" not in tables and "staff" in tables
            db.engine.dispose()
