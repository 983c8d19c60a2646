"""Staff: the "1C" tab of the client card (organisations, bases with users, licences) and the
staff edit of a client's organisations (``/admin/onec/...``).

The tab needs "view clients" (the card checks it); editing needs "edit clients", checked on
every view here. After a save the view returns to the tab
(``/admin/clients/<id>/tab/onec``, the core's URL of a plugin tab).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from portal.plugin_api import Client, ClientCardTab, session
from portal_onec import organisations as orgs
from portal_onec.forms import OrganisationForm
from portal_onec.licences import licences_of
from portal_onec.renewals import history, renewals_of

TAB_NAME = "onec"
EDIT_CLIENTS = "clients.edit"
BILLING_VIEW = "billing.view"

admin_pages = Blueprint(
    "onec_admin", __name__, url_prefix="/admin/onec", template_folder="templates"
)
admin_pages.portal_area = "admin"  # type: ignore[attr-defined]


def tab_url(client_id: int) -> str:
    return f"/admin/clients/{client_id}/tab/{TAB_NAME}"


def render_tab(client: Any) -> Markup:
    """The tab's HTML: a template rendered with autoescaping, so safe to mark as such."""
    return Markup(  # noqa: S704
        render_template(
            "onec/admin_tab.html",
            client=client,
            organisations=orgs.organisations_of(client.id),
            bases=orgs.bases_of(client.id),
            licences=licences_of(client.id),
            can_edit=current_user.can(EDIT_CLIENTS),
            charges_section=charges_section(client),
            renewals=renewals_of(client.id),
            outcomes=history(client.id),
        )
    )


def charges_section(client: Any) -> Markup | str:
    """The client's additional charges, for staff who may see billing."""
    if not current_user.can(BILLING_VIEW):
        return ""
    from portal_onec.charge_views import client_card_section

    return client_card_section(client)


TAB = ClientCardTab(TAB_NAME, _l("1C"), render_tab, order=10)


def _client(client_id: int) -> Client:
    if not current_user.can(EDIT_CLIENTS):
        abort(403)
    client = session().get(Client, client_id)
    if client is None:
        abort(404)
    return client


def _save(form: OrganisationForm, save: Any) -> bool:
    if not form.validate_on_submit():
        return False
    try:
        save(
            name=form.name.data,
            inn=form.inn.data,
            kpp=form.kpp.data or "",
            primary=form.primary.data,
        )
    except orgs.OnecError as error:
        session().rollback()
        field = getattr(form, error.field or "", None)
        if field is not None:
            field.errors = [*field.errors, str(error)]
        else:
            form.form_errors.append(str(error))
        return False
    return True


@admin_pages.route("/clients/<int:client_id>/organisations/new", methods=["GET", "POST"])
def organisation_new(client_id: int) -> Response | str:
    client = _client(client_id)
    form = OrganisationForm()
    if _save(form, lambda **values: orgs.add_organisation(client, **values)):
        flash(_("The organisation is added."), "success")
        return redirect(tab_url(client.id))
    return render_template(
        "onec/admin_form.html", form=form, client=client, title=_("New organisation")
    )


@admin_pages.route(
    "/clients/<int:client_id>/organisations/<int:organisation_id>", methods=["GET", "POST"]
)
def organisation_edit(client_id: int, organisation_id: int) -> Response | str:
    client = _client(client_id)
    organisation = orgs.organisation_of(client.id, organisation_id)
    if organisation is None:
        abort(404)
    form = OrganisationForm(obj=organisation, primary=organisation.is_primary)
    if _save(form, lambda **values: orgs.update_organisation(organisation, **values)):
        flash(_("Saved."), "success")
        return redirect(tab_url(client.id))
    return render_template(
        "onec/admin_form.html", form=form, client=client, title=organisation.name
    )
