"""Buying and holding services: orders and the shop, services and their changes (upgrades, add-
ons), the provisioning queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Mount this area's blueprints (called by ``create_app``; views are imported only here) and
    tell the mail layer what it needs of this area."""
    from portal.orders.admin.orders import admin_orders
    from portal.orders.admin.provisioning import admin_provisioning
    from portal.orders.admin.services import admin_services
    from portal.orders.audit_events import register_audit_sentences
    from portal.orders.client.shop import shop
    from portal.orders.mail import register_mail_sources

    register_audit_sentences()
    for blueprint in (
        admin_orders,
        admin_services,
        admin_provisioning,
        shop,
    ):
        app.register_blueprint(blueprint)
    register_mail_sources(app)
