"""The support desk: tickets, mail intake, SLA, escalation, canned replies and support reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Mount this area's blueprints (called by ``create_app``; views are imported only here)."""
    from portal.support.admin.settings import admin_support_settings
    from portal.support.admin.tickets import admin_support
    from portal.support.audit_events import register_audit_sentences
    from portal.support.client.tickets import client_tickets, ticket_feedback

    register_audit_sentences()
    for blueprint in (
        admin_support,
        admin_support_settings,
        client_tickets,
        ticket_feedback,
    ):
        app.register_blueprint(blueprint)
