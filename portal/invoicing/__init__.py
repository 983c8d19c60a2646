"""Money in and out: invoices, payments, credit, statements, bank statements, gateways, the
billing run, forecast, dunning and overdue actions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Mount this area's blueprints (called by ``create_app``; views are imported only here) and
    tell the mail layer what it needs of this area."""
    from portal.core.extensions import csrf
    from portal.invoicing.admin.automation import admin_automation
    from portal.invoicing.admin.bank_import import admin_bank_import
    from portal.invoicing.admin.billing_runs import admin_billing_runs
    from portal.invoicing.admin.invoices import admin_billing
    from portal.invoicing.audit_events import register_audit_sentences
    from portal.invoicing.client.billing import client_billing
    from portal.invoicing.gateway_callbacks import gateway_callbacks
    from portal.invoicing.gateways import method_label, method_labels
    from portal.invoicing.mail import register_mail_sources

    register_audit_sentences()
    for blueprint in (
        gateway_callbacks,
        admin_billing,
        admin_billing_runs,
        admin_bank_import,
        admin_automation,
        client_billing,
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(gateway_callbacks)  # server-to-server; each gateway checks its own signature
    register_mail_sources(app)
    app.add_template_filter(method_label, "payment_method")
    app.add_template_global(method_labels, "payment_methods")
