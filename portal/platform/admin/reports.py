"""Reports → the reports plugins register (``register_reports``): filters, table, chart, CSV.

The Reports menu lists them through the built-in plugin ``portal.platform.report_registry``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.accounts.models.permissions import Permission
from portal.core.app_state import clock
from portal.platform.report_registry import registered
from portal.platform.reports import Report, ReportResult
from portal.web.csv_export import csv_response
from portal.web.identity import Area
from portal.web.permissions import current_staff_can, requires

admin_reports = Blueprint("admin_reports", __name__, url_prefix="/admin/reports")
admin_reports.portal_area = Area.ADMIN  # type: ignore[attr-defined]

log = logging.getLogger(__name__)


@admin_reports.route("")
@requires(Permission.REPORTS_VIEW)
def index() -> str:
    reports = [r for r in registered().values() if current_staff_can(r.permission)]
    return render_template("admin/reports/index.html", reports=reports)


def _filters(report: Report) -> tuple[Any, bool]:
    """The filter form from the query string and whether it is valid; on the first visit (no
    filters given) the form's defaults are taken as they are."""
    if report.filters is None:
        return None, True
    given = any(key != "format" for key in request.args)
    form = report.filters(formdata=request.args if given else None, meta={"csrf": False})
    return form, form.validate() if given else True


def _run(report: Report, form: Any) -> ReportResult | None:
    values = dict(form.data) if form is not None else {}
    try:
        return report.run(values)
    except Exception:  # a plugin's bug must not take the admin area down
        log.exception("report %s failed", report.name)
        flash(_("The report failed; the error is in the portal's log."), "danger")
        return None


@admin_reports.route("/<name>")
@requires(Permission.REPORTS_VIEW)
def report(name: str) -> Response | str:
    found = registered().get(name)
    if found is None:
        abort(404)
    if not current_staff_can(found.permission):
        abort(403)
    form, valid = _filters(found)
    result = _run(found, form) if valid else None
    if result is not None and request.args.get("format") == "csv":
        filename = f"{found.name}-{clock().now():%Y-%m-%d}.csv"
        return csv_response(filename, [str(c) for c in result.columns], result.rows)
    csv_args = {**request.args.to_dict(), "format": "csv"}
    return render_template(
        "admin/reports/report.html", report=found, form=form, result=result, csv_args=csv_args
    )
