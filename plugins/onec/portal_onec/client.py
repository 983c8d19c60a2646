"""The client area's 1C pages (``/onec/``): my organisations, bases and their users, licences.

Every query goes through the signed-in client's id (an id of another client's organisation or
base is a 404). Changes call :mod:`portal_onec.organisations`, which commits and queues the
cloud's commands. "Ask for more users" is the core's upgrade page of the tariff's service, with
its preview (``service_change_url``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from portal.plugin_api import Panel, service_change_url, session
from portal_onec import organisations as orgs
from portal_onec.forms import ActionForm, BaseForm, OrganisationForm, UserForm
from portal_onec.licences import licences_of
from portal_onec.models import BaseUser, Organisation
from portal_onec.settings import configurations

client_pages = Blueprint("onec_client", __name__, url_prefix="/onec", template_folder="templates")
client_pages.portal_area = "client"  # type: ignore[attr-defined]


def _field_error(form: Any, error: orgs.OnecError) -> None:
    field = getattr(form, error.field or "", None)
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))


def _organisation(organisation_id: int) -> Organisation:
    found = orgs.organisation_of(current_user.id, organisation_id)
    if found is None:
        abort(404)
    return found


@client_pages.route("/")
def index() -> str:
    client_id = current_user.id
    return render_template(
        "onec/client_index.html",
        organisations=orgs.organisations_of(client_id),
        bases=orgs.bases_of(client_id),
        licences=licences_of(client_id),
        tariffs=orgs.tariff_services(client_id),
        change_url=service_change_url,
        user_form=UserForm(),
        action_form=ActionForm(),
    )


@client_pages.route("/organisations/new", methods=["GET", "POST"])
def organisation_new() -> Response | str:
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            orgs.add_organisation(
                current_user._get_current_object(),
                name=form.name.data,
                inn=form.inn.data,
                kpp=form.kpp.data or "",
                primary=form.primary.data,
            )
        except orgs.OnecError as error:
            session().rollback()
            _field_error(form, error)
        else:
            flash(_("The organisation is added."), "success")
            return redirect(url_for("onec_client.index"))
    return render_template("onec/client_form.html", form=form, title=_("New organisation"))


@client_pages.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
def organisation_edit(organisation_id: int) -> Response | str:
    organisation = _organisation(organisation_id)
    form = OrganisationForm(obj=organisation, primary=organisation.is_primary)
    if form.validate_on_submit():
        try:
            orgs.update_organisation(
                organisation,
                name=form.name.data,
                inn=form.inn.data,
                kpp=form.kpp.data or "",
                primary=form.primary.data,
            )
        except orgs.OnecError as error:
            session().rollback()
            _field_error(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("onec_client.index"))
    return render_template("onec/client_form.html", form=form, title=organisation.name)


@client_pages.route("/bases/new", methods=["GET", "POST"])
def base_new() -> Response | str:
    client_id = current_user.id
    organisations = orgs.organisations_of(client_id)
    services = orgs.tariff_services(client_id)
    if not organisations:
        flash(_("Add an organisation first."), "info")
        return redirect(url_for("onec_client.organisation_new"))
    form = BaseForm()
    form.fill(organisations, configurations(), services)
    if form.validate_on_submit():
        organisation = _organisation(form.organisation_id.data)
        service = next((s for s in services if s.id == form.service_id.data), None)
        try:
            if service is None:
                raise orgs.OnecError(_("Choose one of your 1C services."), "service_id")
            orgs.add_base(
                organisation,
                name=form.name.data,
                configuration=form.configuration.data,
                service=service,
            )
        except orgs.OnecError as error:
            session().rollback()
            if error.field == "service":
                error.field = "service_id"
            _field_error(form, error)
        else:
            flash(_("The base is being created."), "success")
            return redirect(url_for("onec_client.index"))
    return render_template("onec/client_form.html", form=form, title=_("New base"))


@client_pages.route("/bases/<int:base_id>/users", methods=["POST"])
def user_add(base_id: int) -> Response:
    base = orgs.base_of(current_user.id, base_id)
    if base is None:
        abort(404)
    form = UserForm()
    if not form.validate_on_submit():
        flash(_("Enter a login without spaces."), "danger")
    else:
        try:
            orgs.grant_access(base, login=form.login.data, full_name=form.full_name.data or "")
        except orgs.OnecError as error:
            session().rollback()
            flash(str(error), "danger")
        else:
            flash(_("The user is being added to the base."), "success")
    return redirect(url_for("onec_client.index"))


@client_pages.route("/bases/<int:base_id>/users/<int:user_id>/remove", methods=["POST"])
def user_remove(base_id: int, user_id: int) -> Response:
    base = orgs.base_of(current_user.id, base_id)
    user = session().get(BaseUser, user_id)
    if base is None or user is None or user.client_id != current_user.id:
        abort(404)
    if ActionForm().validate_on_submit():
        orgs.revoke_access(base, user)
        flash(_("The user is being removed from the base."), "success")
    return redirect(url_for("onec_client.index"))


def _panel(client: Any) -> str:
    count = len(orgs.organisations_of(client.id))
    bases = [b for b in orgs.bases_of(client.id) if b.state != "deleted"]
    return Markup('<p>{}</p><a href="{}">{}</a>').format(
        _(
            "Organisations: %(organisations)s, bases: %(bases)s",
            organisations=count,
            bases=len(bases),
        ),
        url_for("onec_client.index"),
        _("My organisations, bases and licences"),
    )


PANEL = Panel(_l("1C cloud"), _panel, order=20)
