"""Who uses the portal: clients and their contacts, staff, roles and departments, sign-in, two-
factor, notes, to-dos and the audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Mount this area's blueprints (called by ``create_app``; views are imported only here) and
    tell the shell and the mail layer what they need of this area."""
    # The "Discounts and taxes" tab adds its views to the client card's blueprint.
    from portal.accounts.admin import client_pricing  # noqa: F401
    from portal.accounts.admin.client_settings import admin_client_settings
    from portal.accounts.admin.clients import admin_clients
    from portal.accounts.admin.staff import staff_admin
    from portal.accounts.admin.work import admin_work
    from portal.accounts.audit_events import register_audit_sentences
    from portal.accounts.auth.language import language
    from portal.accounts.auth.views import admin_auth, client_auth
    from portal.accounts.client.views import client
    from portal.accounts.mail import register_mail_sources
    from portal.accounts.models import Client, Staff
    from portal.accounts.people_filters import register_people_filters
    from portal.web.identity import Area, register_accounts

    register_accounts(app, {Area.ADMIN: Staff, Area.CLIENT: Client})
    register_mail_sources(app)
    register_audit_sentences(app)
    register_people_filters(app)

    for blueprint in (
        admin_auth,
        client_auth,
        client,
        admin_clients,
        admin_client_settings,
        staff_admin,
        admin_work,
        language,
    ):
        app.register_blueprint(blueprint)
