"""The reports the loaded plugins register (``register_reports``), by name.

This module is also a built-in plugin (``create_app`` registers it): its
``register_admin_menu_items`` puts every report into the admin Reports menu; the menu shows
each staff member those their role may open.
"""

from __future__ import annotations

from portal.core.app_state import plugins
from portal.platform.hooks.markers import hookimpl
from portal.platform.reports import Report
from portal.web.menu import MenuItem


def registered() -> dict[str, Report]:
    """Reports of the loaded plugins by name; the first registered under a name wins."""
    return plugins().by_name("register_reports")


@hookimpl(trylast=True)
def register_admin_menu_items() -> list[MenuItem]:
    return [
        MenuItem(
            "reports",
            report.label or report.name,
            "admin_reports.report",
            report.order,
            report.permission,
            (("name", report.name),),
        )
        for report in registered().values()
    ]
