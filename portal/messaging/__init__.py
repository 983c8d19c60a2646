"""Mail out and in: the outbox with SMTP delivery, IMAP polling and the e-mail templates."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Mount this area's blueprints (called by ``create_app``; views are imported only here)."""
    from portal.messaging.admin.mail_settings import admin_mail_settings
    from portal.messaging.admin.mail_templates import admin_mail_templates
    from portal.messaging.admin.outbox import admin_outbox

    for blueprint in (admin_mail_templates, admin_outbox, admin_mail_settings):
        app.register_blueprint(blueprint)
