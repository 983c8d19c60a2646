"""Admin pages of the renewal queue: the list with its filters and one item with its outcome
form, the client's history of outcomes and the manager it is assigned to.

Reading needs "view clients"; recording an outcome or handing the item to another manager
needs "edit clients" (sales managers have both). Views are thin: the service commits.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.plugin_api import Service, Staff, paginate, paginate_list, requires, session, today
from portal_onec import renewals
from portal_onec.inactive import inactive_services, record_inactive_outcome
from portal_onec.outcomes import LABELS, Outcome, label_of
from portal_onec.renewal_forms import ManagerForm, OutcomeForm, manager_choices
from portal_onec.renewal_models import IN_WORK, STATE_LABELS, Renewal, RenewalState

bp = Blueprint("onec_renewals", __name__, url_prefix="/admin/onec", template_folder="templates")
bp.portal_area = "admin"  # type: ignore[attr-defined]

VIEW, EDIT = "clients.view", "clients.edit"
#: The state filter's values: the work queue (default), each state, or everything.
IN_WORK_FILTER, ALL_FILTER = "work", "all"


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"onec_outcome_label": label_of, "onec_state_labels": STATE_LABELS}


def _filter_args() -> dict[str, Any]:
    """The list's filters from the query string; anything unknown falls back to the default."""
    state = request.args.get("state", IN_WORK_FILTER)
    if state not in {IN_WORK_FILTER, ALL_FILTER, *(s.value for s in RenewalState)}:
        state = IN_WORK_FILTER
    outcome = request.args.get("outcome", "")
    if outcome not in {"", "none", *(o.value for o in Outcome)}:
        outcome = ""
    manager = request.args.get("manager", "")
    known = {value for value, _label in manager_choices()}
    if manager not in known and manager != "me":
        manager = ""
    return {"state": state, "outcome": outcome, "manager": manager}


@bp.route("/renewals")
@requires(VIEW)
def index() -> str:
    filters = _filter_args()
    if filters["state"] == IN_WORK_FILTER:
        states = [s.value for s in IN_WORK]
    elif filters["state"] == ALL_FILTER:
        states = [s.value for s in RenewalState]
    else:
        states = [filters["state"]]
    manager = filters["manager"]
    manager_id = current_user.id if manager == "me" else (int(manager) if manager else None)
    query = renewals.queue_query(
        states=states, manager_id=manager_id, outcome=filters["outcome"] or None
    )
    page = paginate(query)
    return render_template(
        "onec/renewals/index.html",
        page=page,
        filters={k: v for k, v in filters.items() if v},
        current=filters,
        managers=manager_choices(),
        outcomes=LABELS,
        today=today(),
    )


def _item_or_404(renewal_id: int) -> Renewal:
    item = session().get(Renewal, renewal_id)
    if item is None:
        abort(404)
    return item


@bp.route("/renewals/<int:renewal_id>", methods=["GET", "POST"])
@requires(VIEW)
def item(renewal_id: int) -> Response | str:
    found = _item_or_404(renewal_id)
    form = OutcomeForm()
    if request.method == "POST":
        if not current_user.can(EDIT):
            abort(403)
        if form.validate_on_submit():
            try:
                renewals.record_outcome(
                    found,
                    form.outcome.data,
                    comment=form.comment.data or "",
                    next_contact=form.next_contact.data,
                    staff=current_user._get_current_object(),
                )
            except renewals.RenewalError as error:
                session().rollback()
                flash(str(error), "danger")
            else:
                flash(_("The outcome is recorded."), "success")
                return redirect(url_for("onec_renewals.item", renewal_id=found.id))
    manager_form = ManagerForm(formdata=None, manager=str(found.manager_id or ""))
    return render_template(
        "onec/renewals/item.html",
        item=found,
        form=form,
        manager_form=manager_form,
        history=renewals.history(found.client_id),
        today=today(),
    )


@bp.route("/renewals/<int:renewal_id>/manager", methods=["POST"])
@requires(EDIT)
def assign(renewal_id: int) -> Response:
    found = _item_or_404(renewal_id)
    form = ManagerForm()
    if form.validate_on_submit():
        manager = session().get(Staff, int(form.manager.data)) if form.manager.data else None
        renewals.reassign(found, manager)
        flash(_("The renewal is assigned."), "success")
    else:
        flash(_("Choose a manager from the list."), "danger")
    return redirect(url_for("onec_renewals.item", renewal_id=found.id))


# --- inactive clients ---------------------------------------------------------------------------


@bp.route("/inactive")
@requires(VIEW)
def inactive() -> str:
    show_all = request.args.get("show") == "all"
    found = inactive_services()
    listed = found if show_all else [i for i in found if i.outcome is None]
    return render_template(
        "onec/inactive.html",
        # the idle days are worked out per product in Python: pages of the computed list
        listed=paginate_list(listed),
        show_all=show_all,
        without_outcome=sum(1 for i in found if i.outcome is None),
        form=OutcomeForm(formdata=None),
    )


@bp.route("/inactive/<int:service_id>", methods=["POST"])
@requires(EDIT)
def inactive_outcome(service_id: int) -> Response:
    service = session().get(Service, service_id)
    if service is None or service.product.module != "onec":
        abort(404)
    form = OutcomeForm()
    if form.validate_on_submit():
        try:
            record_inactive_outcome(
                service,
                form.outcome.data,
                comment=form.comment.data or "",
                next_contact=form.next_contact.data,
                staff=current_user._get_current_object(),
            )
        except renewals.RenewalError as error:
            session().rollback()
            flash(str(error), "danger")
        else:
            flash(_("The outcome is recorded."), "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
    return redirect(url_for("onec_renewals.inactive"))
