"""What is sold: product groups, products with prices per cycle and currency, configurable
options, add-ons, currencies and taxes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Mount this area's blueprints (called by ``create_app``; views are imported only here)."""
    from portal.catalog.admin.catalog import admin_catalog

    for blueprint in (admin_catalog,):
        app.register_blueprint(blueprint)
