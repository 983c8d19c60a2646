"""Reports the provider runs the business on: the owners' dashboard and the core reports
(income, VAT, MRR, debtors, sales, renewals), one module per report, all registered through the
same report registry and ``Report`` API plugins use (docs/reports.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Mount this area's blueprints (called by ``create_app``; views are imported only here)."""
    from portal.reports.admin import admin_reports

    app.register_blueprint(admin_reports)
