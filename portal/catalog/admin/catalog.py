"""The product catalogue in the admin area: groups, products and their prices, configurable
options, add-ons, upgrade paths, promo codes. Views are thin: ``portal.catalog.catalog``
validates (with the billing engine's checks), audits and commits."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portal.accounts.models.permissions import Permission
from portal.billing import Cycle
from portal.catalog import catalog
from portal.catalog.catalog import CatalogError, PriceInput
from portal.catalog.forms import (
    OPTION_KIND_LABELS,
    PROMO_KIND_LABELS,
    AddonForm,
    ChoiceForm,
    GroupForm,
    OptionForm,
    ProductForm,
    PromoForm,
    UpgradePathsForm,
)
from portal.catalog.models import Addon, ConfigOption, OptionKind, Product, ProductGroup
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.orders.models import PromoCode
from portal.orders.provisioners import provisioners
from portal.web.formatting import plain_number as plain
from portal.web.identity import Area
from portal.web.paging import keyset_page, offset_page
from portal.web.permissions import requires
from portal.web.query_args import id_arg

admin_catalog = Blueprint("admin_catalog", __name__, url_prefix="/admin/catalog")
admin_catalog.portal_area = Area.ADMIN  # type: ignore[attr-defined]

#: Cycles offered in the price grids, in the order staff read them.
CYCLES = tuple(Cycle)


def _get_or_404(model: type[Any], row_id: int) -> Any:
    row = db.session.get(model, row_id)
    if row is None:
        abort(404)
    return row


def _field_error(form: Any, exc: CatalogError) -> None:
    field = getattr(form, exc.field or "", None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "danger")


def _default_currency() -> str:
    return current_app.config["PORTAL"]["default_currency"]


def _currency_arg(rows: Any) -> tuple[str, list[str]]:
    currencies = catalog.currencies_in_use(rows, _default_currency())
    wanted = (request.values.get("currency") or currencies[0]).strip().upper()[:3]
    if wanted not in currencies:
        currencies.append(wanted)
    return wanted, currencies


def _price_entries() -> dict[str, PriceInput]:
    return {
        cycle.value: PriceInput(
            request.form.get(f"price-{cycle.value}"), request.form.get(f"setup-{cycle.value}")
        )
        for cycle in CYCLES
    }


def _price_values(rows: Any, currency: str, choice_id: int | None = None) -> dict[str, Any]:
    """What the grid shows: the stored prices, or what was just typed (after an error)."""
    if request.method == "POST" and "price-monthly" in request.form:
        return {
            f"{kind}-{c.value}": request.form.get(f"{kind}-{c.value}", "")
            for c in CYCLES
            for kind in ("price", "setup")
        }
    values: dict[str, Any] = {}
    for row in rows:
        if row.currency == currency and getattr(row, "choice_id", None) == choice_id:
            values[f"price-{row.cycle}"] = plain(row.price)
            values[f"setup-{row.cycle}"] = plain(row.setup_fee) if row.setup_fee else ""
    return values


def _save_prices(owner: Any, currency: str, choice: Any = None) -> dict[str, str]:
    """Save the grid; returns {field: error} to show next to the inputs."""
    try:
        catalog.set_prices(owner, currency, _price_entries(), choice=choice)
    except CatalogError as exc:
        db.session.rollback()
        return {exc.field or "": str(exc)}
    flash(_("Prices saved."), "success")
    return {}


# --- groups and products ------------------------------------------------------------------------


@admin_catalog.route("/", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def index() -> Response | str:
    form = GroupForm()
    if form.validate_on_submit():
        try:
            catalog.save_group(None, form.name.data, form.sort_order.data or 0)
        except CatalogError as exc:
            _field_error(form, exc)
        else:
            flash(_("Product group added."), "success")
            return redirect(url_for("admin_catalog.index"))
    # one row a product (an empty group: one row without), in numbered pages: the order is the
    # groups' then the products' own, and a catalogue is a few hundred rows (docs/performance.md)
    page = offset_page(
        select(ProductGroup, Product)
        .outerjoin(Product, Product.group_id == ProductGroup.id)
        .options(selectinload(Product.prices))
        .order_by(
            ProductGroup.sort_order,
            ProductGroup.name,
            ProductGroup.id,
            Product.sort_order,
            Product.id,
        ),
        id_column=ProductGroup.id,
    )
    return render_template(
        "admin/catalog/index.html",
        page=page,
        form=form,
        currency=_default_currency(),
        cycle_labels=catalog.CYCLE_LABELS,
        type_labels=catalog.PRODUCT_TYPE_LABELS,
        visibility_labels=catalog.VISIBILITY_LABELS,
        module_labels={name: p.label for name, p in provisioners().items() if p.label},
    )


@admin_catalog.route("/groups/<int:group_id>", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def group_edit(group_id: int) -> Response | str:
    group = _get_or_404(ProductGroup, group_id)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        try:
            catalog.save_group(group, form.name.data, form.sort_order.data or 0)
        except CatalogError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin_catalog.index"))
    return render_template("admin/catalog/group.html", group=group, form=form)


@admin_catalog.route("/groups/<int:group_id>/delete", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def group_delete(group_id: int) -> Response:
    try:
        catalog.delete_group(_get_or_404(ProductGroup, group_id))
    except CatalogError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("Product group deleted."), "success")
    return redirect(url_for("admin_catalog.index"))


def _product_form(product: Product | None) -> ProductForm:
    form = ProductForm(obj=product)
    groups = db.session.scalars(select(ProductGroup).order_by(ProductGroup.name))
    form.group_id.choices = [(g.id, g.name) for g in groups]
    if product is not None and request.method == "GET":
        form.type.data = product.type.value
        form.visibility.data = product.visibility.value
        form.day_count.data = product.day_count or ""
    elif product is None and request.method == "GET" and id_arg("group_id"):
        form.group_id.data = id_arg("group_id")
    return form


def _product_values(form: ProductForm) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in catalog.PRODUCT_FIELDS}


@admin_catalog.route("/products/new", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def product_new() -> Response | str:
    form = _product_form(None)
    if form.validate_on_submit():
        try:
            product = catalog.save_product(None, _product_values(form))
        except CatalogError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("Product created. Now set its prices."), "success")
            return redirect(url_for("admin_catalog.product_edit", product_id=product.id))
    return render_template("admin/catalog/product_new.html", form=form)


def _product_page(product: Product, **context: Any) -> str:
    currency, currencies = _currency_arg(product.prices)
    paths = UpgradePathsForm()
    others = db.session.scalars(
        select(Product).where(Product.id != product.id).order_by(Product.name)
    ).all()
    paths.target_ids.choices = [(p.id, p.name) for p in others]
    if request.method == "GET" or "target_ids" not in request.form:
        paths.target_ids.data = [p.id for p in catalog.upgrade_targets(product)]
    context.setdefault("form", _product_form(product))
    return render_template(
        "admin/catalog/product.html",
        product=product,
        currency=currency,
        currencies=currencies,
        cycles=CYCLES,
        cycle_labels=catalog.CYCLE_LABELS,
        prices=_price_values(product.prices, currency),
        price_errors=context.pop("price_errors", {}),
        paths=paths,
        addons=catalog.addons_for(product),
        option_kinds=OPTION_KIND_LABELS,
        sellable=catalog.sellable_cycles(product, currency),
        in_use=catalog.product_in_use(product.id),
        **context,
    )


@admin_catalog.route("/products/<int:product_id>", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def product_edit(product_id: int) -> Response | str:
    product = _get_or_404(Product, product_id)
    form = _product_form(product)
    if form.validate_on_submit():
        try:
            catalog.save_product(product, _product_values(form))
        except CatalogError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin_catalog.product_edit", product_id=product_id))
    return _product_page(product, form=form)


@admin_catalog.route("/products/<int:product_id>/prices", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def product_prices(product_id: int) -> Response | str:
    product = _get_or_404(Product, product_id)
    currency, _currencies = _currency_arg(product.prices)
    errors = _save_prices(product, currency)
    if errors:
        return _product_page(_get_or_404(Product, product_id), price_errors=errors)
    return redirect(url_for("admin_catalog.product_edit", product_id=product_id, currency=currency))


@admin_catalog.route("/products/<int:product_id>/upgrades", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def product_upgrades(product_id: int) -> Response:
    product = _get_or_404(Product, product_id)
    form = UpgradePathsForm()
    form.target_ids.choices = [(p.id, p.name) for p in db.session.scalars(select(Product))]
    if form.validate_on_submit():
        catalog.set_upgrade_paths(product, form.target_ids.data or [])
        flash(_("Upgrade and downgrade paths saved."), "success")
    else:
        flash(_("Choose products from the list."), "danger")
    return redirect(url_for("admin_catalog.product_edit", product_id=product_id))


@admin_catalog.route("/products/<int:product_id>/delete", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def product_delete(product_id: int) -> Response:
    try:
        catalog.delete_product(_get_or_404(Product, product_id))
    except CatalogError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("admin_catalog.product_edit", product_id=product_id))
    flash(_("Product deleted."), "success")
    return redirect(url_for("admin_catalog.index"))


# --- configurable options -----------------------------------------------------------------------


def _option_values(form: OptionForm) -> dict[str, Any]:
    return {
        name: getattr(form, name).data
        for name in ("name", "kind", "unit", "minimum", "maximum", "step", "sort_order")
    }


@admin_catalog.route("/products/<int:product_id>/options/new", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def option_new(product_id: int) -> Response | str:
    product = _get_or_404(Product, product_id)
    form = OptionForm()
    if form.validate_on_submit():
        try:
            option = catalog.save_option(product, None, _option_values(form))
        except CatalogError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("Option added. Now set its prices."), "success")
            return redirect(url_for("admin_catalog.option_edit", option_id=option.id))
    return render_template("admin/catalog/option_new.html", product=product, form=form)


def _option_page(option: ConfigOption, form: OptionForm | None = None, **context: Any) -> str:
    product = _get_or_404(Product, option.product_id)
    currency, currencies = _currency_arg(option.prices)
    if form is None:
        form = OptionForm(obj=option)
        form.kind.data = option.kind.value
    choice_prices = {
        choice.id: _price_values(option.prices, currency, choice.id) for choice in option.choices
    }
    return render_template(
        "admin/catalog/option.html",
        option=option,
        product=product,
        form=form,
        currency=currency,
        currencies=currencies,
        cycles=CYCLES,
        cycle_labels=catalog.CYCLE_LABELS,
        prices=_price_values(option.prices, currency),
        choice_prices=choice_prices,
        price_errors=context.pop("price_errors", {}),
        choice_form=ChoiceForm(),
        quantity=option.kind is OptionKind.QUANTITY,
        **context,
    )


@admin_catalog.route("/options/<int:option_id>", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def option_edit(option_id: int) -> Response | str:
    option = _get_or_404(ConfigOption, option_id)
    form = OptionForm()
    if form.validate_on_submit():
        product = _get_or_404(Product, option.product_id)
        try:
            catalog.save_option(product, option, _option_values(form))
        except CatalogError as exc:
            db.session.rollback()
            _field_error(form, exc)
            return _option_page(_get_or_404(ConfigOption, option_id), form)
        flash(_("Saved."), "success")
        return redirect(url_for("admin_catalog.option_edit", option_id=option_id))
    return _option_page(option, form if request.method == "POST" else None)


@admin_catalog.route("/options/<int:option_id>/prices", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def option_prices(option_id: int) -> Response | str:
    option = _get_or_404(ConfigOption, option_id)
    currency, _currencies = _currency_arg(option.prices)
    choice = None
    if choice_id := id_arg("choice_id", form=True):
        choice = next((c for c in option.choices if c.id == choice_id), None)
        if choice is None:
            abort(404)
    errors = _save_prices(option, currency, choice)
    if errors:
        return _option_page(
            _get_or_404(ConfigOption, option_id),
            price_errors=errors,
            error_choice=choice.id if choice else None,
        )
    return redirect(url_for("admin_catalog.option_edit", option_id=option_id, currency=currency))


@admin_catalog.route("/options/<int:option_id>/choices", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def choice_add(option_id: int) -> Response:
    option = _get_or_404(ConfigOption, option_id)
    form = ChoiceForm()
    if form.validate_on_submit():
        try:
            catalog.save_choice(option, None, form.name.data, form.sort_order.data or 0)
        except CatalogError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(_("Choice added."), "success")
    else:
        flash(_("Enter a name."), "danger")
    return redirect(url_for("admin_catalog.option_edit", option_id=option_id))


@admin_catalog.route("/options/<int:option_id>/choices/<int:choice_id>/delete", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def choice_delete(option_id: int, choice_id: int) -> Response:
    option = _get_or_404(ConfigOption, option_id)
    choice = next((c for c in option.choices if c.id == choice_id), None)
    if choice is None:
        abort(404)
    try:
        catalog.delete_choice(option, choice)
    except CatalogError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("Choice deleted."), "success")
    return redirect(url_for("admin_catalog.option_edit", option_id=option_id))


@admin_catalog.route("/options/<int:option_id>/delete", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def option_delete(option_id: int) -> Response:
    option = _get_or_404(ConfigOption, option_id)
    product_id = option.product_id
    try:
        catalog.delete_option(option)
    except CatalogError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("admin_catalog.option_edit", option_id=option_id))
    flash(_("Option deleted."), "success")
    return redirect(url_for("admin_catalog.product_edit", product_id=product_id))


# --- add-ons ------------------------------------------------------------------------------------


def _addon_form(addon: Addon | None) -> AddonForm:
    form = AddonForm(obj=addon)
    form.product_ids.choices = [
        (p.id, p.name) for p in db.session.scalars(select(Product).order_by(Product.name))
    ]
    if addon is not None and request.method == "GET":
        form.product_ids.data = [p.id for p in addon.products]
    return form


@admin_catalog.route("/addons")
@requires(Permission.SETTINGS_MANAGE)
def addon_list() -> str:
    page = keyset_page(  # by name, read from its unique index
        select(Addon).options(selectinload(Addon.products), selectinload(Addon.prices)),
        sort=Addon.name,
        id_column=Addon.id,
        descending=False,
    )
    return render_template(
        "admin/catalog/addons.html",
        addons=page,
        currency=_default_currency(),
        cycle_labels=catalog.CYCLE_LABELS,
    )


@admin_catalog.route("/addons/new", methods=["GET", "POST"])
@admin_catalog.route("/addons/<int:addon_id>", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def addon_edit(addon_id: int | None = None) -> Response | str:
    addon = _get_or_404(Addon, addon_id) if addon_id is not None else None
    form = _addon_form(addon)
    if form.validate_on_submit():
        try:
            saved = catalog.save_addon(
                addon,
                {
                    "name": form.name.data,
                    "description": form.description.data,
                    "product_ids": form.product_ids.data or [],
                    "activate_with_parent": form.activate_with_parent.data,
                },
            )
        except CatalogError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin_catalog.addon_edit", addon_id=saved.id))
    currency, currencies = _currency_arg(addon.prices if addon else [])
    return render_template(
        "admin/catalog/addon.html",
        addon=addon,
        form=form,
        currency=currency,
        currencies=currencies,
        cycles=CYCLES,
        cycle_labels=catalog.CYCLE_LABELS,
        prices=_price_values(addon.prices if addon else [], currency),
        price_errors={},
    )


@admin_catalog.route("/addons/<int:addon_id>/prices", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def addon_prices(addon_id: int) -> Response | str:
    addon = _get_or_404(Addon, addon_id)
    currency, currencies = _currency_arg(addon.prices)
    errors = _save_prices(addon, currency)
    if errors:
        addon = _get_or_404(Addon, addon_id)
        return render_template(
            "admin/catalog/addon.html",
            addon=addon,
            form=_addon_form(addon),
            currency=currency,
            currencies=currencies,
            cycles=CYCLES,
            cycle_labels=catalog.CYCLE_LABELS,
            prices=_price_values(addon.prices, currency),
            price_errors=errors,
        )
    return redirect(url_for("admin_catalog.addon_edit", addon_id=addon_id, currency=currency))


# --- promo codes --------------------------------------------------------------------------------


def _promo_form(promo: PromoCode | None) -> PromoForm:
    form = PromoForm(obj=promo)
    form.product_ids.choices = [
        (p.id, p.name) for p in db.session.scalars(select(Product).order_by(Product.name))
    ]
    if promo is not None and request.method == "GET":
        form.kind.data = promo.kind.value
        form.value.data = plain(promo.value)
        form.currency.data = promo.currency or ""
        form.product_ids.data = list(promo.product_ids or [])
        form.cycles.data = list(promo.cycles or [])
    return form


@admin_catalog.route("/promos")
@requires(Permission.SETTINGS_MANAGE)
def promo_list() -> str:
    # by code, read from its unique index: a campaign can make thousands of codes
    page = keyset_page(
        select(PromoCode), sort=PromoCode.code, id_column=PromoCode.id, descending=False
    )
    return render_template(
        "admin/catalog/promos.html",
        promos=page,
        kinds=PROMO_KIND_LABELS,
        uses=catalog.promo_use_counts([p.id for p in page]),
    )


@admin_catalog.route("/promos/new", methods=["GET", "POST"])
@admin_catalog.route("/promos/<int:promo_id>", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def promo_edit(promo_id: int | None = None) -> Response | str:
    promo = _get_or_404(PromoCode, promo_id) if promo_id is not None else None
    form = _promo_form(promo)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in catalog.PROMO_FIELDS}
        try:
            catalog.save_promo(promo, values, now=clock().now())
        except CatalogError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin_catalog.promo_list"))
    return render_template("admin/catalog/promo.html", promo=promo, form=form)


@admin_catalog.route("/promos/<int:promo_id>/delete", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def promo_delete(promo_id: int) -> Response:
    catalog.delete_promo(_get_or_404(PromoCode, promo_id))
    flash(_("The promo code is deleted, or deactivated if it was used."), "success")
    return redirect(url_for("admin_catalog.promo_list"))
