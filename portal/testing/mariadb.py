"""A fresh MariaDB (or MySQL) database per test session, for importers that read one (WHMCS).

The server is ``PORTAL_TEST_MARIADB_URL`` or ``mysql+pymysql://root@127.0.0.1:3306/``. Each
session creates ``whmcs_<random>`` and drops it afterwards, as :mod:`portal.testing.databases`
does for PostgreSQL. A server that does not answer skips the tests that need it, unless
``PORTAL_REQUIRE_MARIADB=1`` (CI): then they fail.

The ``mariadb_database`` fixture (registered by the portal's pytest plugin) yields the URL of
the empty database; :func:`load_sql` runs SQL files into it (the WHMCS fixtures).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.testing.databases import server_answers

DEFAULT_MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/"


def mariadb_server_url() -> str:
    return os.environ.get("PORTAL_TEST_MARIADB_URL") or DEFAULT_MARIADB_URL


def mariadb_required() -> bool:
    return os.environ.get("PORTAL_REQUIRE_MARIADB") == "1"


def mariadb_answers(url: str | None = None, timeout: int = 3) -> bool:
    return server_answers(url or mariadb_server_url(), timeout)


@contextmanager
def fresh_mariadb(prefix: str = "whmcs") -> Iterator[str]:
    """Yield the URL of an empty database (utf8, as WHMCS creates its own), dropped afterwards."""
    server = make_url(mariadb_server_url())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(f"CREATE DATABASE `{name}` CHARACTER SET utf8 COLLATE utf8_unicode_ci")
        )
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def load_sql(url: str, *files: Path) -> None:
    """Run SQL files (several statements each, as ``mysql < file`` would) into the database."""
    import pymysql
    from pymysql.constants import CLIENT

    parsed = make_url(url)
    connection = pymysql.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=parsed.database,
        charset="utf8mb4",
        client_flag=CLIENT.MULTI_STATEMENTS,
        autocommit=True,
    )
    try:
        with connection.cursor() as cursor:
            for path in files:
                cursor.execute(Path(path).read_text(encoding="utf-8"))
                while cursor.nextset():
                    pass
    finally:
        connection.close()


def refill(url: str, *files: Path) -> None:
    """Empty every table of the database, then run the data ``files`` into it: each test starts
    from the same source data without creating the schema again."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for (table,) in connection.execute(text("SHOW TABLES")).all():
                connection.execute(text(f"TRUNCATE TABLE `{table}`"))
    finally:
        engine.dispose()
    load_sql(url, *files)


@pytest.fixture(scope="session")
def mariadb_server() -> str:
    """The server URL, once it answers (else skip, or fail with ``PORTAL_REQUIRE_MARIADB=1``)."""
    url = mariadb_server_url()
    if not mariadb_answers(url):
        message = f"MariaDB does not answer at {make_url(url).render_as_string()}"
        if mariadb_required():
            pytest.fail(f"{message} (PORTAL_REQUIRE_MARIADB=1)")
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def mariadb_database(mariadb_server: str) -> Iterator[str]:
    """The URL of a fresh, empty MariaDB database for this test session."""
    with fresh_mariadb() as url:
        yield url
