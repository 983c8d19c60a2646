"""Settings of the client module: custom client fields and client groups."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.accounts import client_profile, clients
from portal.accounts.forms import (
    FIELD_TYPE_LABELS,
    ClientAreaForm,
    ClientForm,
    ClientGroupForm,
    CustomFieldForm,
)
from portal.accounts.models.client import ClientGroup
from portal.accounts.models.custom_field import CustomField
from portal.accounts.models.permissions import Permission
from portal.core.extensions import db
from portal.platform import runtime_settings
from portal.web.identity import Area
from portal.web.permissions import requires

admin_client_settings = Blueprint(
    "admin_client_settings", __name__, url_prefix="/admin/settings/clients"
)
admin_client_settings.portal_area = Area.ADMIN  # type: ignore[attr-defined]


def _save_field(form: CustomFieldForm, field: CustomField | None) -> CustomField | None:
    try:
        return clients.save_custom_field(field, form.data)
    except clients.ClientError as exc:
        getattr(form, exc.field or "name").errors = [str(exc)]
        return None


@admin_client_settings.route("/fields", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def custom_fields() -> Response | str:
    form = CustomFieldForm()
    if form.validate_on_submit() and _save_field(form, None):
        flash(_("Field added."), "success")
        return redirect(url_for("admin_client_settings.custom_fields"))
    fields = db.session.scalars(
        select(CustomField).order_by(CustomField.sort_order, CustomField.name)
    )
    return render_template(
        "admin/client_settings/fields.html",
        fields=fields.all(),
        form=form,
        type_labels=FIELD_TYPE_LABELS,
    )


@admin_client_settings.route("/fields/<int:field_id>", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def custom_field_edit(field_id: int) -> Response | str:
    field = db.session.get(CustomField, field_id)
    if field is None:
        abort(404)
    form = CustomFieldForm(obj=field)
    if not form.is_submitted():
        form.options.data = "\n".join(field.options)
    if form.validate_on_submit() and _save_field(form, field):
        flash(_("Saved."), "success")
        return redirect(url_for("admin_client_settings.custom_fields"))
    return render_template("admin/client_settings/field_edit.html", custom_field=field, form=form)


@admin_client_settings.route("/groups", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def client_groups() -> Response | str:
    form = ClientGroupForm()
    if form.validate_on_submit():
        try:
            clients.create_client_group(form.name.data, form.colour.data)
        except clients.ClientError as exc:
            form.name.errors = [str(exc)]
        else:
            flash(_("Group added."), "success")
            return redirect(url_for("admin_client_settings.client_groups"))
    groups = db.session.scalars(select(ClientGroup).order_by(ClientGroup.name)).all()
    return render_template("admin/client_settings/groups.html", groups=groups, form=form)


@admin_client_settings.route("/client-area", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def client_area() -> Response | str:
    """Which profile fields clients may change themselves."""
    form = ClientAreaForm()
    form.editable.choices = [
        (name, getattr(ClientForm, name).args[0]) for name in client_profile.EDITABLE_CHOICES
    ]
    if not form.is_submitted():
        form.editable.data = list(client_profile.editable_fields())
    if form.validate_on_submit():
        runtime_settings.put("client_editable_fields", form.editable.data)  # audited there
        flash(_("Saved."), "success")
        return redirect(url_for("admin_client_settings.client_area"))
    return render_template("admin/client_settings/client_area.html", form=form)
