"""Staff: the number pool (``/admin/telephony/numbers``: import, list with filters, fees, a
number's history and state changes) and the "Calls" tab of the client card.

Viewing needs "view clients"; every change needs "edit clients", checked on each view. Lists
go through ``paginate``; changes call :mod:`portal_telephony.numbers`, which commits.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from portal.plugin_api import ClientCardTab, Service, paginate, requires, session
from portal_telephony import numbers
from portal_telephony.balance import calls_section
from portal_telephony.categories import label
from portal_telephony.forms import (
    ActionForm,
    FeesForm,
    ImportForm,
    PoolFilterForm,
    StaffAssignForm,
)
from portal_telephony.models import NumberState, PhoneNumber
from portal_telephony.plans import kind_of, plan_services
from portal_telephony.provisioning import is_blocked, seats
from portal_telephony.settings import PLAN

TAB_NAME = "telephony"
VIEW, EDIT = "clients.view", "clients.edit"

admin_pages = Blueprint(
    "telephony_admin", __name__, url_prefix="/admin/telephony", template_folder="templates"
)
admin_pages.portal_area = "admin"  # type: ignore[attr-defined]

STATE_LABELS = {
    NumberState.FREE.value: lazy_pgettext("number state", "free"),
    NumberState.RESERVED.value: lazy_pgettext("number state", "reserved"),
    NumberState.ASSIGNED.value: lazy_pgettext("number state", "assigned"),
    NumberState.QUARANTINE.value: lazy_pgettext("number state", "quarantine"),
}


def _actor() -> str:
    return str(getattr(current_user, "email", "") or "staff")


@admin_pages.route("/numbers")
@requires(VIEW)
def pool() -> str:
    form = PoolFilterForm(request.args)
    form.state.choices = [
        ("", str(_l("Any state"))),
        *((k, str(v)) for k, v in STATE_LABELS.items()),
    ]
    form.validate()
    filters = {
        "digits": form.digits.data or "",
        "category": form.category.data or "",
        "state": form.state.data or "",
    }
    page = paginate(  # keyset: category rank, number, id (docs/performance.md)
        numbers.search_query(
            digits=filters["digits"],
            category=filters["category"] or None,
            state=filters["state"] or None,
        ),
        sort=numbers.POOL_ORDER,
        id_column=PhoneNumber.id,
        descending=False,
    )
    fees_form = FeesForm()
    return render_template(
        "telephony/admin_pool.html",
        form=form,
        page=page,
        filters=filters,
        counts=numbers.counts(),
        categories=numbers.categories(),
        states=STATE_LABELS,
        label=label,
        import_form=ImportForm(),
        fees_form=fees_form,
        can_edit=current_user.can(EDIT),
    )


@admin_pages.post("/numbers/import")
@requires(EDIT)
def import_numbers() -> Response | str:
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("Enter the numbers to import."), "danger")
        return redirect(url_for("telephony_admin.pool"))
    result = numbers.import_numbers(form.numbers.data.splitlines(), actor=_actor())
    for error in result.errors[:20]:
        flash(error, "danger")
    flash(
        _(
            "Added %(added)s numbers; %(existing)s were already in the pool.",
            added=result.added,
            existing=result.existing,
        ),
        "success" if result.added else "info",
    )
    return redirect(url_for("telephony_admin.pool"))


@admin_pages.post("/numbers/fees")
@requires(EDIT)
def fees() -> Response:
    form = FeesForm()
    if form.validate_on_submit():
        numbers.set_fees(
            form.category.data,
            connection_fee=form.connection_fee.data,
            monthly_fee=form.monthly_fee.data,
        )
        flash(_("The fees are saved."), "success")
    else:
        flash(_("Enter both fees."), "danger")
    return redirect(url_for("telephony_admin.pool"))


def _number(number_id: int) -> PhoneNumber:
    found = session().get(PhoneNumber, number_id)
    if found is None:
        abort(404)
    return found


@admin_pages.route("/numbers/<int:number_id>")
@requires(VIEW)
def number(number_id: int) -> str:
    found = _number(number_id)
    return render_template(
        "telephony/admin_number.html",
        number=found,
        fee=numbers.fees(found.category),
        events=numbers.history(found),
        states=STATE_LABELS,
        label=label,
        action_form=ActionForm(),
        assign_form=StaffAssignForm(),
        can_edit=current_user.can(EDIT),
    )


@admin_pages.post("/numbers/<int:number_id>/<action>")
@requires(EDIT)
def change(number_id: int, action: str) -> Response:
    found = _number(number_id)
    try:
        if action == "assign":
            form = StaffAssignForm()
            if not form.validate_on_submit():
                raise numbers.NumberError(_("Enter the PBX service number."))
            service = session().get(Service, int(form.service_id.data))
            if service is None or kind_of(service.product) != PLAN:
                raise numbers.NumberError(_("There is no PBX service with this number."))
            numbers.assign(found.id, service, actor=_actor(), extension=form.extension.data or "")
        else:
            if not ActionForm().validate_on_submit():
                abort(400)
            if action == "release":
                numbers.release(found.id, actor=_actor())
            elif action == "free":
                numbers.free_now(found.id, actor=_actor())
            else:
                abort(404)
    except numbers.NumberError as error:
        flash(str(error), "danger")
    else:
        flash(_("The number is changed."), "success")
    return redirect(url_for("telephony_admin.number", number_id=number_id))


def render_tab(client: Any) -> Markup:
    """The "Calls" tab: the client's PBX, numbers, and the rated calls (the rating side's)."""
    return Markup(  # noqa: S704 - an autoescaped template
        render_template(
            "telephony/admin_tab.html",
            client=client,
            plans=plan_services(client.id, ()) or plan_services(client.id),
            seats=seats,
            blocked=is_blocked,
            numbers=numbers.numbers_of(client.id),
            label=label,
            states=STATE_LABELS,
            calls=calls_section(client),
        )
    )


TAB = ClientCardTab(TAB_NAME, _l("Calls"), render_tab, order=30)
