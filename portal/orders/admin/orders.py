"""Orders in the admin area: the list (pending ones feed the dashboard counter), an order's page
with accept / cancel / fraud, and the staff order form (price override, skip e-mail, generate
invoice or not, accept at once)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portal import billing
from portal.accounts.models import Client
from portal.accounts.models.permissions import Permission
from portal.catalog import catalog
from portal.catalog.models import Product
from portal.core.clock import today
from portal.core.extensions import db
from portal.invoicing.models import Invoice
from portal.orders import orders
from portal.orders.forms import (
    CHANGE_STATUS_LABELS,
    ORDER_KIND_LABELS,
    ORDER_STATUS_LABELS,
    AcceptOrderForm,
    CancelOrderForm,
    StaffOrderForm,
    read_addons,
    read_options,
)
from portal.orders.models import Order, OrderSource, OrderStatus
from portal.orders.models.order import ServiceChange
from portal.orders.orders import CartItem, OrderError
from portal.web.identity import Area
from portal.web.permissions import requires
from portal.web.query_args import db_id, page_arg

admin_orders = Blueprint("admin_orders", __name__, url_prefix="/admin/orders")
admin_orders.portal_area = Area.ADMIN  # type: ignore[attr-defined]


def _order_or_404(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None:
        abort(404)
    return order


@admin_orders.route("")
@admin_orders.route("/pending", endpoint="pending", defaults={"status": "pending"})
@requires(Permission.ORDERS_MANAGE)
def index(status: str | None = None) -> str:
    status = status or request.args.get("status", "")
    stmt = (
        select(Order)
        .options(selectinload(Order.client), selectinload(Order.items))
        .order_by(Order.id.desc())
    )
    if status in {s.value for s in OrderStatus}:
        stmt = stmt.where(Order.status == OrderStatus(status))
    client_id = db_id(request.args.get("client_id"))
    if client_id is not None:
        stmt = stmt.where(Order.client_id == client_id)
    page = db.paginate(stmt, per_page=50, page=page_arg(), error_out=False, count=True)
    return render_template(
        "admin/orders/list.html",
        page=page,
        status=status,
        labels=ORDER_STATUS_LABELS,
        kinds=ORDER_KIND_LABELS,
        args={k: v for k, v in request.args.items() if k not in ("page", "status")},
    )


@admin_orders.route("/<int:order_id>")
@requires(Permission.ORDERS_MANAGE)
def view(order_id: int) -> str:
    order = _order_or_404(order_id)
    accept = AcceptOrderForm(
        send_email=not order.skip_email, generate_invoice=order.generate_invoice
    )
    invoice = db.session.get(Invoice, order.invoice_id) if order.invoice_id else None
    changes = db.session.scalars(
        select(ServiceChange).where(ServiceChange.order_id == order.id)
    ).all()
    return render_template(
        "admin/orders/view.html",
        order=order,
        invoice=invoice,
        changes=changes,
        accept_form=accept,
        cancel_form=CancelOrderForm(),
        labels=ORDER_STATUS_LABELS,
        kinds=ORDER_KIND_LABELS,
        change_labels=CHANGE_STATUS_LABELS,
        cycle_labels=catalog.CYCLE_LABELS,
    )


@admin_orders.route("/<int:order_id>/accept", methods=["POST"])
@requires(Permission.ORDERS_MANAGE)
def accept(order_id: int) -> Response:
    order = _order_or_404(order_id)
    form = AcceptOrderForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        orders.accept_order(
            order,
            today=today(),
            send_email=form.send_email.data,
            generate_invoice=form.generate_invoice.data,
        )
    except (OrderError, billing.BillingError) as exc:
        db.session.rollback()
        message = (
            catalog.billing_message(exc) if isinstance(exc, billing.BillingError) else str(exc)
        )
        flash(message, "danger")
    else:
        flash(_("Order #%(id)s accepted.", id=order_id), "success")
    return redirect(url_for("admin_orders.view", order_id=order_id))


@admin_orders.route("/<int:order_id>/<any(cancel, fraud):action>", methods=["POST"])
@requires(Permission.ORDERS_MANAGE)
def close(order_id: int, action: str) -> Response:
    order = _order_or_404(order_id)
    form = CancelOrderForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        orders.cancel_order(order, reason=form.reason.data or "", fraud=action == "fraud")
    except OrderError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("Order #%(id)s is closed.", id=order_id), "success")
    return redirect(url_for("admin_orders.view", order_id=order_id))


def _staff_item(product: Product, form: StaffOrderForm) -> tuple[CartItem | None, list[str]]:
    options, errors = read_options(product, request.form)
    override = None
    if (form.price_override.data or "").strip():
        try:
            override = catalog.parse_money(
                form.price_override.data, "price_override", _("Price override")
            )
        except catalog.CatalogError as exc:
            errors.append(str(exc))
    cycle = request.form.get("cycle", "")
    item = CartItem(product.id, cycle, options, read_addons(request.form), override)
    return (None if errors else item), errors


@admin_orders.route("/new", methods=["GET", "POST"])
@requires(Permission.ORDERS_MANAGE)
def new() -> Response | str:
    form = StaffOrderForm()
    products = orders.products_for_sale(staff=True)
    form.product_id.choices = [(0, "—"), *((p.id, f"{p.group.name} / {p.name}") for p in products)]
    if request.method == "GET":
        form.client_id.data = db_id(request.args.get("client_id"))
        form.product_id.data = db_id(request.args.get("product_id")) or 0
    product = db.session.get(Product, form.product_id.data or 0) if form.product_id.data else None
    client = (
        db.session.get(Client, db_id(form.client_id.data) or 0) if form.client_id.data else None
    )
    quote: orders.CartQuote | None = None
    errors: list[str] = []
    if request.method == "POST" and form.validate_on_submit() and product is not None:
        if client is None:
            form.client_id.errors = [_("There is no client with this ID.")]
        else:
            item, errors = _staff_item(product, form)
            if item is not None and request.form.get("action") == "create":
                try:
                    order = orders.place_order(
                        client,
                        [item],
                        today=today(),
                        promo_code=form.promo_code.data or "",
                        source=OrderSource.STAFF,
                        staff_id=current_user.id,
                        skip_email=form.skip_email.data,
                        generate_invoice=form.generate_invoice.data,
                        notes=form.notes.data or "",
                    )
                    if form.accept_now.data:
                        orders.accept_order(order, today=today())
                except OrderError as exc:
                    db.session.rollback()
                    errors.append(str(exc))
                else:
                    flash(_("Order #%(id)s created.", id=order.id), "success")
                    return redirect(url_for("admin_orders.view", order_id=order.id))
            if item is not None:
                quote = orders.quote_cart(
                    client, [item], today=today(), promo_code=form.promo_code.data or "", staff=True
                )
    return render_template(
        "admin/orders/new.html",
        **_configure_context(form, product, client),
        quote=quote,
        errors=errors,
    )


def _configure_context(
    form: StaffOrderForm, product: Product | None, client: Client | None
) -> dict[str, Any]:
    currency = client.currency if client else current_app.config["PORTAL"]["default_currency"]
    return {
        "form": form,
        "product": product,
        "client": client,
        "cycles": catalog.sellable_cycles(product, currency) if product else [],
        "missing": catalog.missing_prices(product, currency) if product and client else None,
        "cycle_labels": catalog.CYCLE_LABELS,
        "addons": catalog.addons_for(product) if product else [],
        "values": request.form if request.method == "POST" else {},
        "defaults": catalog.default_options(product) if product else {},
        "chosen_addons": set(read_addons(request.form)) if request.method == "POST" else set(),
    }
