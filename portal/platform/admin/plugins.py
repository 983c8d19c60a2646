"""Plugins → Installed plugins: discovered, enabled and failed plugins, enable/disable, each
plugin's settings form; and the plugin fields on the admin product page.

Views are thin: ``portal.platform.plugins`` stores the staff's choices (and rebuilds the hooks),
``portal.platform.plugin_settings`` stores settings (secrets encrypted) and audits.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import DecimalField

from portal.accounts.models.permissions import Permission
from portal.catalog.models import Product
from portal.core.app_state import plugins
from portal.core.extensions import db
from portal.orders.provisioners import ProvisioningError, provisioners
from portal.platform import plugin_migrations, plugin_settings
from portal.platform import plugins as plugin_state
from portal.platform.plugin_forms import PluginSettings, ProductFields
from portal.web.identity import Area
from portal.web.permissions import requires

admin_plugins = Blueprint("admin_plugins", __name__, url_prefix="/admin/plugins")
admin_plugins.portal_area = Area.ADMIN  # type: ignore[attr-defined]


def _settings_form(registration: PluginSettings, submitted: bool = False) -> Any:
    """The plugin's form, filled with its stored values (never with a secret) unless posted."""
    prefix = f"{registration.plugin}-"
    if submitted:
        return registration.form(prefix=prefix)
    values = plugin_settings.get(registration.plugin)
    shown = {k: v for k, v in values.items() if k not in registration.secret_names}
    return _filled(registration.form, prefix, shown)


def _filled(form_class: Any, prefix: str, values: dict[str, Any]) -> Any:
    """A plugin's form showing stored values. JSON keeps decimals as text; a DecimalField
    with ``places`` cannot show text, so they are turned back into ``Decimal`` here."""
    form = form_class(prefix=prefix, formdata=None, data=values)
    for field in form:
        if isinstance(field, DecimalField) and isinstance(field.data, str):
            with contextlib.suppress(ArithmeticError):
                field.data = Decimal(field.data)
    return form


def _page(forms: dict[str, Any] | None = None) -> str:
    current = plugins()
    registrations = plugin_settings.registered()
    forms = {**{n: _settings_form(r) for n, r in registrations.items()}, **(forms or {})}
    loader = current.loader
    configured = set(loader.configured) if loader else set()
    return render_template(
        "admin/plugins.html",
        infos=sorted(current.infos.values(), key=lambda info: info.name),
        forms=forms,
        registrations=registrations,
        secrets={name: plugin_settings.secrets_set(name) for name in registrations},
        configured=configured,
        choices=current.choices,
        restart={name for name in current.infos if plugin_state.needs_restart(name)},
        pending=plugin_migrations.pending(),
        modules=sorted(provisioners().values(), key=lambda module: module.name),
    )


@admin_plugins.route("")
@requires(Permission.PLUGINS_MANAGE)
def index() -> str:
    return _page()


@admin_plugins.route("/<name>/<any(enable, disable):action>", methods=["POST"])
@requires(Permission.PLUGINS_MANAGE)
def switch(name: str, action: str) -> Response:
    try:
        plugin_state.set_enabled(name, action == "enable")
    except plugin_state.PluginError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("admin_plugins.index"))
    info = plugins().infos.get(name)
    if info is not None and info.state == "failed":
        flash(_("%(name)s could not be loaded: %(error)s", name=name, error=info.error), "danger")
    elif action == "enable":
        flash(_("%(name)s is enabled.", name=name), "success")
    else:
        flash(_("%(name)s is disabled.", name=name), "success")
    if plugin_state.needs_restart(name):
        flash(_("Restart the portal to add or remove the pages of %(name)s.", name=name), "warning")
    return redirect(url_for("admin_plugins.index", _anchor=f"plugin-{name}"))


@admin_plugins.route("/modules/<name>/test", methods=["POST"])
@requires(Permission.PLUGINS_MANAGE)
def test_connection(name: str) -> Response:
    """Ask a provisioning module to check its system with the settings of the plugin of the
    same name; what it says (or what is wrong) is shown to staff."""
    module = provisioners().get(name)
    if module is None:
        abort(404)
    try:
        message = module.test_connection(plugin_settings.get(name))
    except ProvisioningError as exc:
        flash(_("%(module)s: %(error)s", module=module.label or name, error=exc), "danger")
    except Exception as exc:  # a module's bug is shown, not a 500 page
        flash(_("%(module)s failed: %(error)s", module=module.label or name, error=exc), "danger")
    else:
        flash(message, "success")
    return redirect(url_for("admin_plugins.index", _anchor="provisioning-modules"))


@admin_plugins.route("/<name>/settings", methods=["POST"])
@requires(Permission.PLUGINS_MANAGE)
def settings(name: str) -> Response | str:
    registration = plugin_settings.registered().get(name)
    if registration is None:
        abort(404)
    form = _settings_form(registration, submitted=True)
    if not form.validate_on_submit():
        flash(_("Please correct the errors in the settings of %(name)s.", name=name), "danger")
        return _page({name: form})
    plugin_settings.save(name, {field: form[field].data for field in registration.fields})
    flash(_("Settings of %(name)s saved.", name=name), "success")
    return redirect(url_for("admin_plugins.index", _anchor=f"plugin-{name}"))


# --- plugin fields on the product page ------------------------------------------------------------


#: A product-fields form that failed validation, kept in the session across the redirect so the
#: product page shows it again with its errors and nothing typed is lost.
DRAFT = "plugin_product_fields_draft"


def product_field_forms(product: Product) -> list[tuple[ProductFields, Any]]:
    """(registration, form) for every plugin whose fields apply to ``product`` (template global
    used by admin/catalog/product.html)."""
    draft = session.pop(DRAFT, None) or {}
    forms = []
    for item in plugin_settings.registered_product_fields().values():
        if not item.applies_to(product.module):
            continue
        if draft.get("product") == product.id and draft.get("plugin") == item.plugin:
            form = item.form(prefix=f"{item.plugin}-", formdata=MultiDict(draft["form"]))
            form.validate()
        else:
            form = _product_form(item, product)
        forms.append((item, form))
    return forms


def _product_form(item: ProductFields, product: Product, submitted: bool = False) -> Any:
    prefix = f"{item.plugin}-"
    if submitted:
        return item.form(prefix=prefix)
    values = plugin_settings.product_values(product, item.plugin)
    return _filled(item.form, prefix, values)


@admin_plugins.app_context_processor
def _product_fields_helper() -> dict[str, Any]:
    return {"plugin_product_forms": product_field_forms}


@admin_plugins.route("/products/<int:product_id>/<plugin>", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def product_fields(product_id: int, plugin: str) -> Response | str:
    product = db.session.get(Product, product_id)
    item = plugin_settings.registered_product_fields().get(plugin)
    if product is None or item is None or not item.applies_to(product.module):
        abort(404)
    form = _product_form(item, product, submitted=True)
    back = redirect(url_for("admin_catalog.product_edit", product_id=product_id, _anchor=plugin))
    if not form.validate_on_submit():
        session[DRAFT] = {
            "product": product.id,
            "plugin": plugin,
            "form": request.form.to_dict(flat=False),
        }
        flash(_("Please correct the errors in the fields of %(name)s.", name=plugin), "danger")
        return back
    values = {name: form[name].data for name in item.fields}
    plugin_settings.save_product_values(product, plugin, values)
    flash(_("Saved."), "success")
    return back
