"""Fixtures come from portal.testing.plugin (registered as a pytest11 entry point); the few
below serve the portal's own tests only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture
def register_plugin(app: Flask) -> Iterator[Callable[[object], object]]:
    """``register_plugin(obj)``: a throwaway plugin in the test app's plugin manager until the
    test ends (cheaper than ``make_app`` when the plugin adds no pages or commands)."""
    from portal.core.app_state import plugins

    manager = plugins().pm
    registered: list[object] = []

    def register(plugin: object) -> object:
        manager.register(plugin)
        registered.append(plugin)
        return plugin

    yield register
    for plugin in registered:
        manager.unregister(plugin)


WHMCS_FIXTURES = Path(__file__).parent / "fixtures" / "whmcs"


@pytest.fixture(scope="session")
def _whmcs_schema(mariadb_database: str) -> str:
    from portal.testing.mariadb import load_sql

    load_sql(mariadb_database, WHMCS_FIXTURES / "schema.sql")
    return mariadb_database


@pytest.fixture
def whmcs_source(_whmcs_schema: str) -> str:
    """The URL of a WHMCS 8.x database (this session's fresh MariaDB one) holding the fixture
    data: tests/fixtures/whmcs/clients.sql, then billing.sql when present. Refilled for every
    test, so a test may change it."""
    from portal.testing.mariadb import refill

    data = [WHMCS_FIXTURES / "clients.sql"]
    if (WHMCS_FIXTURES / "billing.sql").exists():
        data.append(WHMCS_FIXTURES / "billing.sql")
    refill(_whmcs_schema, *data)
    return _whmcs_schema
