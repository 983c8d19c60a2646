"""Billing → Billing runs (progress, history, run now) and Billing → Forecast."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.accounts.models.permissions import Permission
from portal.core.clock import today as _today
from portal.invoicing.billing_forecast import forecast
from portal.invoicing.billing_run import bill_due, recent_runs
from portal.platform.jobs.runs import run_job
from portal.web.csv_export import csv_response
from portal.web.identity import Area
from portal.web.permissions import requires
from portal.web.query_args import int_arg

admin_billing_runs = Blueprint("admin_billing_runs", __name__, url_prefix="/admin/billing")
admin_billing_runs.portal_area = Area.ADMIN  # type: ignore[attr-defined]

FORECAST_MONTHS = (1, 3, 6, 12)


@admin_billing_runs.route("/runs")
@requires(Permission.BILLING_VIEW)
def runs() -> str:
    history = recent_runs()
    running = any(run.status.value == "running" for run in history)
    return render_template("admin/billing/runs.html", runs=history, running=running, today=_today())


@admin_billing_runs.route("/runs", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def run_now() -> str | Response:
    raw = request.form.get("as_of", "").strip()
    try:
        as_of = date.fromisoformat(raw) if raw else _today()
    except ValueError:
        flash(_("Enter the date as YYYY-MM-DD."), "danger")
        return redirect(url_for("admin_billing_runs.runs"))
    if as_of > _today() and request.form.get("confirm_future") != as_of.isoformat():
        # A run for a later date is not a preview: it issues and mails real invoices dated
        # then. Staff confirm that very date (a second step, checked here, not by the page).
        history = recent_runs()
        return render_template(
            "admin/billing/runs.html",
            runs=history,
            running=False,
            today=_today(),
            confirm_date=as_of,
        )
    staff = current_user.full_name  # shown on the runs page: a name, not an id
    run = run_job("billing.run", lambda day: bill_due(day, started_by=staff), as_of, holder=staff)
    if run is None:
        flash(_("A billing run is going on right now; its progress is below."), "warning")
    elif run.error:
        flash(_("The run failed: %(error)s", error=run.error.strip().splitlines()[0]), "danger")
    else:
        flash(_("Done: %(invoices)s invoices.", invoices=run.counts.get("invoices", 0)), "success")
    return redirect(url_for("admin_billing_runs.runs"))


@admin_billing_runs.route("/forecast")
@requires(Permission.BILLING_VIEW)
def forecast_page() -> str | Response:
    months = int_arg("months", 3)
    if months not in FORECAST_MONTHS:
        months = 3
    result = forecast(_today(), months)
    if request.args.get("format") == "csv":
        return csv_response(
            f"forecast-{result.start}-{months}m.csv",
            [
                _("Invoice date"),
                _("Client"),
                _("Line"),
                _("Currency"),
                _("Net"),
                _("Tax"),
                _("Total"),
            ],
            (
                (
                    line.invoice_date,
                    line.client_name,
                    line.description,
                    line.currency,
                    line.net,
                    line.tax,
                    line.total,
                )
                for line in result.lines
            ),
        )
    return render_template(
        "admin/billing/forecast.html", result=result, months=months, choices=FORECAST_MONTHS
    )
