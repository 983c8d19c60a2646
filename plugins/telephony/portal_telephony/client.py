"""The client area's telephony pages (``/telephony/``): my PBX (seats, numbers), picking a
free number, and the prepaid balance.

Every query goes through the signed-in client's id (another client's number or service is a
404). "Change seats" is the core's change page of the plan's service with its preview and
proration (``service_change_url``); nothing is priced here. Changes call
:mod:`portal_telephony.numbers`, which commits and queues the PBX's commands.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from portal.plugin_api import Panel, Service, ServiceStatus, service_change_url
from portal_telephony import numbers
from portal_telephony.balance import balance_section
from portal_telephony.categories import label
from portal_telephony.forms import ActionForm, AssignForm, SearchForm
from portal_telephony.plans import plan_services
from portal_telephony.provisioning import is_blocked, seats

client_pages = Blueprint(
    "telephony_client", __name__, url_prefix="/telephony", template_folder="templates"
)
client_pages.portal_area = "client"  # type: ignore[attr-defined]


def _active_plans() -> list[Service]:
    return plan_services(current_user.id, (ServiceStatus.ACTIVE,))


def _own_plan(service_id: int) -> Service:
    found = next((s for s in _active_plans() if s.id == service_id), None)
    if found is None:
        abort(404)
    return found


@client_pages.route("/")
def index() -> str:
    plans = plan_services(current_user.id)
    return render_template(
        "telephony/client_index.html",
        plans=plans,
        seats=seats,
        blocked=is_blocked,
        change_url=service_change_url,
        numbers=numbers.numbers_of(current_user.id),
        fees={c.code: c for c in numbers.categories()},
        label=label,
        action_form=ActionForm(),
        tab="index",
    )


@client_pages.route("/numbers/search")
def search() -> str:
    form = SearchForm(request.args)
    found = []
    if form.validate():
        found = numbers.search(digits=form.digits.data or "", category=form.category.data or None)
    return render_template(
        "telephony/client_search.html",
        form=form,
        found=found,
        fees={c.code: c for c in numbers.categories()},
        label=label,
        has_plan=bool(_active_plans()),
        action_form=ActionForm(),
        tab="search",
    )


@client_pages.post("/numbers/<int:number_id>/reserve")
def reserve(number_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    if not _active_plans():
        flash(_("Order a PBX plan first: a number is connected to a PBX."), "warning")
        return redirect(url_for("telephony_client.search"))
    try:
        numbers.reserve(number_id, current_user._get_current_object(), actor="client")
    except numbers.NumberError as error:
        flash(str(error), "danger")
        return redirect(url_for("telephony_client.search"))
    return redirect(url_for("telephony_client.confirm", number_id=number_id))


@client_pages.route("/numbers/<int:number_id>/confirm", methods=["GET", "POST"])
def confirm(number_id: int) -> Response | str:
    number = numbers.number_of(current_user.id, number_id)
    if number is None or number.state != "reserved":
        abort(404)
    form = AssignForm()
    plans = _active_plans()
    form.service_id.choices = [(s.id, f"#{s.id} {s.product.name}") for s in plans]
    if form.validate_on_submit():
        service = _own_plan(form.service_id.data)
        try:
            numbers.assign(number.id, service, actor="client", extension=form.extension.data or "")
        except numbers.NumberError as error:
            flash(str(error), "danger")
        else:
            flash(_("The number is connected to your PBX."), "success")
        return redirect(url_for("telephony_client.index"))
    return render_template(
        "telephony/client_confirm.html",
        number=number,
        fee=numbers.fees(number.category),
        label=label,
        form=form,
        action_form=ActionForm(),
        tab="search",
    )


@client_pages.post("/numbers/<int:number_id>/release")
def release(number_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    if numbers.number_of(current_user.id, number_id) is None:
        abort(404)
    try:
        numbers.release(number_id, actor="client", client_id=current_user.id)
    except numbers.NumberError as error:
        flash(str(error), "danger")
    else:
        flash(_("The number is released."), "success")
    return redirect(url_for("telephony_client.index"))


@client_pages.route("/balance")
def balance() -> str:
    return render_template(
        "telephony/client_balance.html",
        section=balance_section(current_user._get_current_object()),
        tab="balance",
    )


def _panel(client: Any) -> str:
    held = numbers.numbers_of(client.id)
    plans = plan_services(client.id)
    return Markup('<p>{}</p><a href="{}">{}</a> · <a href="{}">{}</a>').format(
        _("PBX: %(plans)s, numbers: %(numbers)s", plans=len(plans), numbers=len(held)),
        url_for("telephony_client.index"),
        _("My PBX and numbers"),
        url_for("telephony_client.balance"),
        pgettext("prepaid telephony", "Balance"),
    )


PANEL = Panel(_l("Telephony"), _panel, order=25)
