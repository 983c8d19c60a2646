"""Plugin migrations in-process: ``portal db upgrade`` brings the core and the *enabled*
plugins' branches to their heads; a plugin enabled at run time shows as pending until then;
``portal db downgrade <plugin>@base`` drops its tables. On SQLite and PostgreSQL."""

import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from portal.core.extensions import db
from portal.platform.plugin_migrations import pending, upgrade_targets
from portal.testing.databases import fresh_database

REVISION = """
from alembic import op
import sqlalchemy as sa

revision = "tableplug_0001"
down_revision = None
branch_labels = ("tableplug",)
depends_on = "0009_plugins"


def upgrade():
    op.create_table(
        "tableplug_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.String(50), nullable=False),
    )


def downgrade():
    op.drop_table("tableplug_item")
"""


@pytest.fixture
def tableplug(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed plugin package that owns one table, on its own Alembic branch."""
    site = tmp_path / "site"
    package = site / "tableplug"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text('"""Owns tableplug_item."""\n')
    (package / "migrations" / "__init__.py").write_text("")
    (package / "migrations" / "tableplug_0001_items.py").write_text(textwrap.dedent(REVISION))
    info = site / "tableplug-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tableplug\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[portal.plugins]\ntableplug = tableplug\n")
    monkeypatch.syspath_prepend(str(site))
    return package


def _tables() -> set[str]:
    with db.engine.connect() as connection:
        return set(sa.inspect(connection).get_table_names())


def test_upgrade_runs_enabled_branches_only(tableplug: Path, make_app, tmp_path: Path) -> None:
    with fresh_database(tmp_path, "_plugins") as url:
        app: Flask = make_app(database_url=url)
        with app.app_context():
            cli = app.test_cli_runner()

            def run(*args: str) -> str:
                result = cli.invoke(args=list(args))
                assert result.exit_code == 0, result.output
                return result.output

            run("db", "upgrade")
            assert "plugin_setting" in _tables() and "tableplug_item" not in _tables()

            run("plugins", "enable", "tableplug")
            assert pending() == {"tableplug"}
            assert upgrade_targets()[1:] == ["tableplug_0001"]  # after the core head
            run("db", "upgrade")
            assert "tableplug_item" in _tables() and pending() == set()

            run("plugins", "disable", "tableplug")
            run("db", "upgrade")  # its revision stays known: nothing breaks, nothing is dropped
            assert "tableplug_item" in _tables()

            run("db", "downgrade", "tableplug@base")
            assert "tableplug_item" not in _tables() and "client" in _tables()
            db.session.remove()
            db.engine.dispose()
