"""Fixtures come from portal.testing.plugin (registered as a pytest11 entry point); the few
below serve the portal's own tests only."""

from __future__ import annotations

from collections.abc import Callable, Iterator

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
