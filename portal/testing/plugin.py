"""pytest plugin: a migrated database, an app with a movable clock, a real SMTP server.

Fixtures (all documented in docs/plugins.md):

``app``            the portal, inside an app context; every table is emptied after the test
``make_app``       build another app on the same database with extra settings or plugins
``portal_test_plugins``  plugins every test app loads and migrates (override it in a plugin)
``clock``          the app's :class:`~portal.core.clock.FrozenClock`, reset to ``DEFAULT_NOW``
``web``            an anonymous :class:`~portal.testing.web.WebClient`
``staff_member`` / ``client_account``    accounts with the password ``factories.PASSWORD``;
                   the staff member is an administrator (``make_staff(role=...)`` for others)
``staff_web`` / ``client_web``           web clients signed in as them
``mailbox``        messages received by the loopback SMTP server during the test
``slow_mailbox``   the same, the server taking ``SLOW_SMTP_SECONDS`` to accept each message
``mariadb_server`` / ``mariadb_database``  a MariaDB server (skip, or fail where required) and
                   a fresh database on it for the session (:mod:`portal.testing.mariadb`)

The database is SQLite unless ``PORTAL_TEST_DATABASE=postgres`` (server from
``PORTAL_TEST_POSTGRES_URL``); each test process gets a fresh database built by the migrations.
Installed plugins are never loaded automatically: pass them to ``make_app``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from portal.core.clock import FrozenClock
from portal.testing import databases
from portal.testing.factories import make_client, make_staff
from portal.testing.mariadb import mariadb_database, mariadb_server  # noqa: F401 (fixtures)
from portal.testing.web import WebClient

DEFAULT_NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHROMIUM = "/usr/bin/chromium"
SLOW_SMTP_SECONDS = 0.25


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres_only: needs PostgreSQL (skipped on SQLite)")
    config.addinivalue_line("markers", "e2e: drives Debian's Chromium through Playwright")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_sqlite = databases.backend() == "sqlite"
    no_browser = not Path(CHROMIUM).exists() and not os.environ.get("CI")
    for item in items:
        if on_sqlite and item.get_closest_marker("postgres_only"):
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL"))
        if no_browser and item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


# --- mail -------------------------------------------------------------------------------------


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        #: Seconds the server takes to accept each message (``slow_mailbox``); other sessions
        #: go on meanwhile, as on a real server.
        self.delay = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[str, int, _Collector]]:
    """A real SMTP server (aiosmtpd) on loopback for the whole test process."""
    from aiosmtpd.controller import Controller

    collector = _Collector()
    with socket.socket() as probe:  # aiosmtpd cannot report a port chosen by the OS
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, collector
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[str, int, _Collector]) -> list[EmailMessage]:
    collector = smtp_server[2]
    with collector.lock:
        collector.messages.clear()
    return collector.messages


@pytest.fixture
def slow_mailbox(
    smtp_server: tuple[str, int, _Collector], mailbox: list[EmailMessage]
) -> Iterator[list[EmailMessage]]:
    """``mailbox`` on a server that takes ``SLOW_SMTP_SECONDS`` to accept each message (a slow
    relay: a sender's claim can run out while it is still sending)."""
    collector = smtp_server[2]
    collector.delay = SLOW_SMTP_SECONDS
    try:
        yield mailbox
    finally:
        collector.delay = 0.0


# --- app and database -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def portal_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with databases.fresh_database(tmp_path_factory.mktemp("database")) as url:
        yield url


@pytest.fixture(scope="session")
def portal_settings(
    portal_database_url: str, smtp_server: tuple[str, int, _Collector]
) -> dict[str, Any]:
    """Settings every test app starts from; ``make_app`` overrides some of them."""
    return {
        "database_url": portal_database_url,
        "secret_key": "tests-only-secret",
        "session_cookie_secure": False,
        "plugins": [],
        "default_locale": "en",
        "smtp_host": smtp_server[0],
        "smtp_port": smtp_server[1],
        "mail_from": "billing@portal.test",
        "base_url": "http://localhost",
        # Each test app counts in its own memory, even where PORTAL_REDIS_URL is set for the
        # tests that start real servers on Redis (tests/web/test_limits_shared.py).
        "ratelimit_storage_uri": "memory://",
        # Every request checks that the runtime settings are current, as before the interval
        # existed: query counts do not depend on how long a test takes, and apps built by
        # make_app see each other's changes at once. tests/web/test_request_cost.py turns it on.
        "settings_check_seconds": 0,
    }


@pytest.fixture(scope="session")
def _portal_clock() -> FrozenClock:
    return FrozenClock(DEFAULT_NOW)


def _build_app(
    settings: dict[str, Any], clock: FrozenClock, instance: Path, plugins: tuple = ()
) -> Flask:
    from portal.core.app import create_app

    app = create_app(settings, clock=clock, extra_plugins=plugins, instance_path=instance)
    app.test_client_class = WebClient
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def portal_test_plugins() -> tuple[object, ...]:
    """Plugins every test app loads (none for the core). A plugin's own ``conftest.py``
    overrides it, e.g. ``return (portal_diskspace,)``: the plugin's migrations then run with
    the core's when the test database is built, and ``app`` and ``make_app`` load it."""
    return ()


@pytest.fixture(scope="session")
def _session_app(
    portal_settings: dict[str, Any],
    _portal_clock: FrozenClock,
    tmp_path_factory: pytest.TempPathFactory,
    portal_test_plugins: tuple[object, ...],
) -> Flask:
    from portal.platform.plugin_migrations import upgrade_all

    instance = tmp_path_factory.mktemp("instance")
    app = _build_app(portal_settings, _portal_clock, instance, portal_test_plugins)
    with app.app_context():
        upgrade_all()  # the schema comes from the migrations, exactly as in production
    return app


def wipe_database() -> None:
    """Empty every table (children first); cheaper than rebuilding the schema per test."""
    from flask import current_app

    from portal.core.extensions import db, limiter
    from portal.platform import runtime_settings

    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
    limiter.reset()
    runtime_settings.forget(current_app)  # plain deletes bump no settings token


@pytest.fixture
def clock(_portal_clock: FrozenClock) -> FrozenClock:
    _portal_clock.set(DEFAULT_NOW)
    return _portal_clock


@pytest.fixture
def app(_session_app: Flask, clock: FrozenClock) -> Iterator[Flask]:
    with _session_app.app_context():
        try:
            yield _session_app
        finally:
            wipe_database()


@pytest.fixture
def make_app(
    app: Flask,
    portal_settings: dict[str, Any],
    clock: FrozenClock,
    tmp_path: Path,
    portal_test_plugins: tuple[object, ...],
) -> Iterator[Callable[..., Flask]]:
    """``make_app(extra_plugins=(obj,), theme="x")``: another app on the same (cleaned) database."""
    built: list[Flask] = []

    def factory(*, extra_plugins: tuple = (), **overrides: Any) -> Flask:
        instance = tmp_path / f"instance{len(built)}"
        loaded = (*portal_test_plugins, *(p for p in extra_plugins if p not in portal_test_plugins))
        new = _build_app({**portal_settings, **overrides}, clock, instance, loaded)
        built.append(new)
        return new

    yield factory
    for other in built:
        with other.app_context():
            from portal.core.extensions import db

            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(other.instance_path, ignore_errors=True)


@pytest.fixture
def web(app: Flask) -> WebClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def staff_member(app: Flask, clock: FrozenClock):  # type: ignore[no-untyped-def]
    return make_staff(clock, role="administrator", first_name="Мария", last_name="Бухгалтер")


@pytest.fixture
def client_account(app: Flask, clock: FrozenClock):  # type: ignore[no-untyped-def]
    return make_client(clock, first_name="Иван", last_name="Петров", company="ООО «Ромашка»")


@pytest.fixture
def staff_web(app: Flask, staff_member: Any) -> WebClient:
    web = app.test_client()
    web.sign_in_staff(staff_member.email)  # type: ignore[attr-defined]
    return web  # type: ignore[return-value]


@pytest.fixture
def client_web(app: Flask, client_account: Any) -> WebClient:
    web = app.test_client()
    web.sign_in_client(client_account.email)  # type: ignore[attr-defined]
    return web  # type: ignore[return-value]
