"""Utilities → Scheduled jobs: schedules, the last run of each, history, and "Run now"."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.accounts.models.permissions import Permission
from portal.core.clock import today
from portal.platform.jobs.registry import jobs
from portal.platform.jobs.runs import last_runs, run_job
from portal.platform.models.job import JobRun
from portal.web.identity import Area
from portal.web.paging import keyset_page
from portal.web.permissions import requires

admin_jobs = Blueprint("admin_jobs", __name__, url_prefix="/admin/jobs")
admin_jobs.portal_area = Area.ADMIN  # type: ignore[attr-defined]


@admin_jobs.route("")
@requires(Permission.SETTINGS_MANAGE)
def index() -> str:
    page = keyset_page(select(JobRun), id_column=JobRun.id)
    defined = jobs()
    return render_template(
        "admin/jobs/index.html",
        jobs=defined.values(),
        job_labels={job_id: job.label for job_id, job in defined.items()},
        latest=last_runs(),
        page=page,
    )


@admin_jobs.route("/<job_id>/run", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def run_now(job_id: str) -> Response:
    job = jobs().get(job_id)
    if job is None:
        abort(404)
    run = run_job(job.id, job.run, today(), holder=current_user.full_name)
    if run is None:
        flash(_("This job is running elsewhere right now; try again in a minute."), "warning")
    elif run.error:
        flash(_("The job failed: %(error)s", error=run.error.strip().splitlines()[0]), "danger")
    else:
        flash(_("Done: %(counts)s", counts=run.counts or "—"), "success")
    return redirect(url_for("admin_jobs.index"))
