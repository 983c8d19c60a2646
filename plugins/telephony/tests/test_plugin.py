"""The plugin is found by its entry point name, enabled as an operator would enable it, and its
Alembic branch creates its tables."""

from __future__ import annotations

from portal_telephony.models import PhoneNumber

from portal.plugin_api import session
from portal.testing import actions


def test_the_plugin_is_enabled_by_its_entry_point_name(app) -> None:
    info = actions.plugin_info("telephony")
    assert (info.state, info.module) == ("enabled", "portal_telephony")


def test_the_branch_creates_the_number_pool(app) -> None:
    assert session().query(PhoneNumber).count() == 0
