"""Utilities → Provisioning queue: module commands of services, failed ones first, with Retry
and Mark done (also on the service page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.accounts.models.permissions import Permission
from portal.core.extensions import db
from portal.orders import provisioning
from portal.orders.models.provisioning import ProvisioningAction, ProvisioningTask, TaskStatus
from portal.orders.provisioning import ProvisioningQueueError
from portal.web.identity import Area
from portal.web.paging import offset_page
from portal.web.permissions import requires
from portal.web.safe_redirect import is_safe_next

admin_provisioning = Blueprint("admin_provisioning", __name__, url_prefix="/admin/provisioning")
admin_provisioning.portal_area = Area.ADMIN  # type: ignore[attr-defined]

ACTION_LABELS = {
    ProvisioningAction.CREATE: _l("Create"),
    ProvisioningAction.SUSPEND: _l("Suspend"),
    ProvisioningAction.UNSUSPEND: _l("Unsuspend"),
    ProvisioningAction.TERMINATE: _l("Terminate"),
    ProvisioningAction.CHANGE_PACKAGE: _l("Change package"),
}
TASK_STATUS_LABELS = {
    TaskStatus.FAILED: _l("Failed after retries"),
    TaskStatus.QUEUED: _l("Queued"),
    TaskStatus.RUNNING: _l("Running"),
    TaskStatus.DONE: _l("Done"),
    TaskStatus.CANCELLED: _l("Cancelled (not run)"),
}


@admin_provisioning.app_context_processor
def _labels() -> dict[str, Any]:
    """The labels the task table (here and on the service page) shows."""
    return {
        "task_action_labels": ACTION_LABELS,
        "task_status_labels": TASK_STATUS_LABELS,
        "task_actionable": provisioning.ACTIONABLE,
    }


@admin_provisioning.route("")
@requires(Permission.CLIENTS_VIEW)
def index() -> str:
    status_arg = request.args.get("status", "")
    status = TaskStatus(status_arg) if status_arg in {s.value for s in TaskStatus} else None
    page = offset_page(provisioning.tasks_query(status), id_column=ProvisioningTask.id)
    return render_template(
        "admin/provisioning/index.html",
        page=page,
        services=provisioning.services_of(page.items),
        status=status.value if status else "",
        failed=provisioning.failed_count(),
    )


def _task_or_404(task_id: int) -> ProvisioningTask:
    task = db.session.get(ProvisioningTask, task_id)
    if task is None:
        abort(404)
    return task


def _back() -> Response:
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("admin_provisioning.index"))


def _staff_action(task_id: int, action: Callable[..., object], done: str) -> Response:
    """Retry or mark done: the service refuses with a message when the task's state forbids."""
    try:
        action(_task_or_404(task_id), current_user)
    except ProvisioningQueueError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        flash(done, "success")
    return _back()


@admin_provisioning.route("/<int:task_id>/retry", methods=["POST"])
@requires(Permission.ORDERS_MANAGE)
def retry(task_id: int) -> Response:
    return _staff_action(
        task_id, provisioning.retry, _("The command is queued again; it runs within a minute.")
    )


@admin_provisioning.route("/<int:task_id>/done", methods=["POST"])
@requires(Permission.ORDERS_MANAGE)
def mark_done(task_id: int) -> Response:
    return _staff_action(task_id, provisioning.mark_done, _("The command is marked done."))
