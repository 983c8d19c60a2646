"""The plugin is found by its entry point name and enabled as an operator would enable it."""

from __future__ import annotations

from portal.testing import actions


def test_the_plugin_is_enabled_by_its_entry_point_name(app) -> None:
    info = actions.plugin_info("onec")
    assert (info.state, info.module) == ("enabled", "portal_onec")
