"""Reports: the owners' dashboard (the index) and every registered report — core and plugins'
alike — with its filters, table, totals, charts, CSV and XLSX export and a printable page.

The Reports menu lists the reports through the built-in plugin ``portal.platform.report_registry``.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.accounts.models.permissions import Permission
from portal.core.app_state import clock
from portal.platform.report_export import report_csv, report_xlsx
from portal.platform.report_registry import registered
from portal.platform.reports import Report, ReportResult
from portal.reports import dashboard
from portal.web.downloads import download
from portal.web.formatting import short_date
from portal.web.identity import Area
from portal.web.permissions import current_staff_can, requires

admin_reports = Blueprint("admin_reports", __name__, url_prefix="/admin/reports")
admin_reports.portal_area = Area.ADMIN  # type: ignore[attr-defined]

log = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx", "print")


@admin_reports.route("")
@admin_reports.route("/")
@requires(Permission.REPORTS_VIEW)
def index() -> str:
    reports = [r for r in registered().values() if current_staff_can(r.permission)]
    return render_template(
        "admin/reports/index.html",
        reports=reports,
        report_names={r.name for r in reports},
        figures=dashboard.figures(clock().now()),
    )


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


def _filter_summary(form: Any) -> list[tuple[str, str]]:
    """``(label, value)`` of each filter as chosen, for the printed page's header."""
    if form is None:
        return []
    summary = []
    for field in form:
        if field.data in (None, "") or field.type == "CSRFTokenField":
            continue
        if isinstance(field.data, date):
            shown = short_date(field.data)
        elif hasattr(field, "choices") and field.choices:
            shown = next((str(label) for value, label in field.choices if value == field.data), "")
        else:
            shown = field._value() if hasattr(field, "_value") else str(field.data)
        if shown:
            summary.append((str(field.label.text), shown))
    return summary


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
    wanted = request.args.get("format")
    stamp = f"{found.name}-{clock().now():%Y-%m-%d}"
    if result is not None and wanted == "csv":
        return download(report_csv(result), f"{stamp}.csv", "text/csv")
    if result is not None and wanted == "xlsx":
        title = str(found.label or found.name)
        return download(report_xlsx(result, title, str(get_locale())), f"{stamp}.xlsx", XLSX)
    arguments = {k: v for k, v in request.args.to_dict().items() if k != "format"}
    exports = {kind: {**arguments, "format": kind} for kind in FORMATS}
    template = "admin/reports/print.html" if wanted == "print" else "admin/reports/report.html"
    return render_template(
        template,
        report=found,
        form=form,
        result=result,
        exports=exports,
        back=arguments,
        summary=_filter_summary(form),
        generated_at=clock().now(),
    )
