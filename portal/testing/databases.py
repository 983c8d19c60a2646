"""Test databases: a SQLite file, or a fresh PostgreSQL database per test process."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def backend() -> str:
    """Which database this test run uses: ``sqlite`` (default) or ``postgres``."""
    return os.environ.get("PORTAL_TEST_DATABASE", "sqlite")


def postgres_server_url() -> str:
    return os.environ.get("PORTAL_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def postgres_answers(url: str | None = None, timeout: int = 3) -> bool:
    return server_answers(url or postgres_server_url(), timeout)


def server_answers(url: str, timeout: int = 3) -> bool:
    """Whether the database server at ``url`` answers a query within ``timeout`` seconds
    (PostgreSQL and MariaDB drivers both take ``connect_timeout``)."""
    engine = create_engine(url, connect_args={"connect_timeout": timeout})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    finally:
        engine.dispose()
    return True


@contextmanager
def fresh_database(tmp_dir: Path, label: str = "") -> Iterator[str]:
    """Yield the URL of an empty database that is removed afterwards."""
    if backend() == "sqlite":
        yield f"sqlite:///{tmp_dir / f'portal{label}.db'}"
        return
    server = make_url(postgres_server_url())
    name = f"portal_test_{uuid.uuid4().hex[:10]}{label}".replace("-", "_")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
