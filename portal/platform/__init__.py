"""What the portal runs on: plugins (manager, hooks, settings, migrations), runtime settings,
scheduled jobs, themes, the report API (``reports``, its registry, filters, charts, exports)
and demo data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Mount this area's blueprints (called by ``create_app``; views are imported only here)."""
    from portal.platform.admin.home import admin
    from portal.platform.admin.jobs import admin_jobs
    from portal.platform.admin.plugins import admin_plugins

    for blueprint in (
        admin,
        admin_jobs,
        admin_plugins,
    ):
        app.register_blueprint(blueprint)
