"""The plugin's tests run in their own pytest session: every test app enables the plugin by its
entry point name (as an operator would), so the test database is built by the core's
migrations and the plugin's Alembic branch."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def portal_settings(portal_settings: dict[str, Any]) -> dict[str, Any]:
    return {**portal_settings, "plugins": ["telephony"]}
