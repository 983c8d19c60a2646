"""Client-area selling: the catalogue, the cart and checkout (total with tax before confirming),
the client's orders, services, and the upgrade/downgrade of a service with its preview.

Every query is scoped to ``current_user``; another client's service or order is a 404. The cart
lives in the (signed) session, so web nodes stay stateless.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portal.catalog import catalog
from portal.catalog.models import Product, ProductGroup, Visibility
from portal.core.clock import today
from portal.core.extensions import db
from portal.orders import orders, service_changes
from portal.orders.forms import (
    CHANGE_STATUS_LABELS,
    ORDER_KIND_LABELS,
    ORDER_STATUS_LABELS,
    change_form_context,
    read_addons,
    read_change_request,
    read_options,
)
from portal.orders.models import Order, Service, ServiceAddon, ServiceChange
from portal.orders.models.service import SERVICE_STATUS_LABELS
from portal.orders.orders import CartItem, OrderError
from portal.orders.service_changes import ChangeError
from portal.web.formatting import labels_once, money
from portal.web.identity import Area
from portal.web.paging import keyset_page
from portal.web.query_args import db_id, strict_int

shop = Blueprint("shop", __name__)
shop.portal_area = Area.CLIENT  # type: ignore[attr-defined]

CART_KEY = "cart"
MAX_CART_ITEMS = 20


# --- the cart in the session --------------------------------------------------------------------


def cart_items() -> list[CartItem]:
    raw = session.get(CART_KEY, {})
    items = raw.get("items", []) if isinstance(raw, dict) else []
    return [item for data in items[:MAX_CART_ITEMS] if (item := CartItem.from_session(data))]


def cart_promo() -> str:
    raw = session.get(CART_KEY, {})
    return str(raw.get("promo", "") if isinstance(raw, dict) else "")[:50]


def save_cart(items: list[CartItem], promo: str | None = None) -> None:
    session[CART_KEY] = {
        "items": [item.to_session() for item in items[:MAX_CART_ITEMS]],
        "promo": cart_promo() if promo is None else promo,
    }


# --- catalogue ----------------------------------------------------------------------------------


def _orderable(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or product.visibility is Visibility.STAFF_ONLY:
        abort(404)
    return product


@shop.route("/order")
def catalogue() -> str:
    groups = db.session.scalars(
        select(ProductGroup)
        .options(selectinload(ProductGroup.products).selectinload(Product.prices))
        .order_by(ProductGroup.sort_order, ProductGroup.name)
    ).all()
    held = set(
        db.session.scalars(
            select(Service.product_id).where(
                Service.client_id == current_user.id, Service.status.in_(orders.HOLDING)
            )
        )
    )
    currency = current_user.currency
    prices = {
        product.id: catalog.starting_prices(product, currency)
        for group in groups
        for product in group.products
        if product.visibility is Visibility.CLIENT_AREA
    }
    return render_template(
        "client/shop/catalogue.html",
        groups=groups,
        held=held,
        prices=prices,
        currency=currency,
        cycle_labels=catalog.CYCLE_LABELS,
        visible=Visibility.CLIENT_AREA,
    )


@shop.route("/order/<int:product_id>", methods=["GET", "POST"])
def configure(product_id: int) -> Response | str:
    product = _orderable(product_id)
    existing = orders.holding_service(current_user.id, product.id)
    if existing is not None:
        flash(
            _(
                "You already have %(product)s. Change its options or package instead of ordering "
                "it again.",
                product=product.name,
            ),
            "info",
        )
        return redirect(url_for("shop.change", service_id=existing.id))
    errors: list[str] = []
    quote = None
    if request.method == "POST":
        options, errors = read_options(product, request.form)
        item = CartItem(
            product.id, request.form.get("cycle", ""), options, read_addons(request.form)
        )
        if not errors:
            quote = orders.quote_cart(current_user, [item], today=today())
            errors = [q.error for q in quote.items if q.error]
            if not errors and request.form.get("action") == "add":
                items = [i for i in cart_items() if i.product_id != product.id]
                save_cart([*items, item])
                flash(_("%(product)s is in your cart.", product=product.name), "success")
                return redirect(url_for("shop.cart"))
    return render_template(
        "client/shop/configure.html",
        product=product,
        errors=errors,
        quote=quote,
        cycles=catalog.sellable_cycles(product, current_user.currency),
        missing=catalog.missing_prices(product, current_user.currency),
        cycle_labels=catalog.CYCLE_LABELS,
        addons=catalog.addons_for(product),
        values=request.form if request.method == "POST" else {},
        defaults=catalog.default_options(product),
        chosen_addons=set(read_addons(request.form)) if request.method == "POST" else set(),
    )


@shop.route("/cart", methods=["GET", "POST"])
def cart() -> Response | str:
    if request.method == "POST":
        action = request.form.get("action")
        if action == "promo":
            save_cart(cart_items(), "".join((request.form.get("promo_code") or "").split())[:50])
        elif action == "remove_promo":
            save_cart(cart_items(), "")
        elif action == "empty":
            save_cart([], "")
        elif (action or "").startswith("remove-"):
            index = action.removeprefix("remove-")
            items = cart_items()
            position = strict_int(index)
            if position is not None and position < len(items):
                items.pop(position)
            save_cart(items)
        return redirect(url_for("shop.cart"))
    items = cart_items()
    quote = orders.quote_cart(current_user, items, today=today(), promo_code=cart_promo())
    return render_template(
        "client/shop/cart.html", quote=quote, promo=cart_promo(), cycle_labels=catalog.CYCLE_LABELS
    )


@shop.route("/cart/checkout", methods=["POST"])
def checkout() -> Response:
    if request.form.get("confirm") != "1":
        flash(_("Confirm the order with the checkbox."), "danger")
        return redirect(url_for("shop.cart"))
    try:
        order = orders.place_order(
            current_user,
            cart_items(),
            today=today(),
            promo_code=cart_promo(),
            notes=(request.form.get("notes") or "")[:2000],
            ip=request.remote_addr or "",
        )
    except OrderError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("shop.cart"))
    save_cart([], "")
    flash(
        _("Thank you! Order #%(id)s is placed; we will confirm it shortly.", id=order.id), "success"
    )
    return redirect(url_for("shop.order_view", order_id=order.id))


# --- orders -------------------------------------------------------------------------------------


def _my_order(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None or order.client_id != current_user.id:
        abort(404)
    return order


@shop.route("/orders")
def order_list() -> str:
    rows = keyset_page(
        select(Order).where(Order.client_id == current_user.id).options(selectinload(Order.items)),
        id_column=Order.id,
    )
    return render_template(
        "client/shop/orders.html",
        orders=rows,
        labels=labels_once(ORDER_STATUS_LABELS),
        kinds=labels_once(ORDER_KIND_LABELS),
    )


@shop.route("/orders/<int:order_id>")
def order_view(order_id: int) -> str:
    order = _my_order(order_id)
    return render_template(
        "client/shop/order.html",
        order=order,
        labels=ORDER_STATUS_LABELS,
        kinds=ORDER_KIND_LABELS,
        cycle_labels=catalog.CYCLE_LABELS,
    )


# --- services -----------------------------------------------------------------------------------


def _my_service(service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    if service is None or service.client_id != current_user.id:
        abort(404)
    return service


@shop.route("/services")
def service_list() -> str:
    return render_template(
        "client/services/list.html",
        services=orders.client_services(current_user.id),
        labels=labels_once(SERVICE_STATUS_LABELS),
        cycle_labels=labels_once(catalog.CYCLE_LABELS),
    )


@shop.route("/services/<int:service_id>")
def service_view(service_id: int) -> str:
    service = _my_service(service_id)
    addons = db.session.scalars(
        select(ServiceAddon)
        .where(ServiceAddon.service_id == service.id)
        .options(selectinload(ServiceAddon.addon))
    ).all()
    changes = db.session.scalars(
        select(ServiceChange)
        .where(ServiceChange.service_id == service.id, ServiceChange.client_id == current_user.id)
        .order_by(ServiceChange.id.desc())
    ).all()
    return render_template(
        "client/services/view.html",
        service=service,
        addons=addons,
        changes=changes,
        details=catalog.option_details(
            service.product, service.currency, catalog.service_options(service)
        ),
        labels=SERVICE_STATUS_LABELS,
        change_labels=CHANGE_STATUS_LABELS,
        cycle_labels=catalog.CYCLE_LABELS,
        pending=service_changes.pending_change(service),
        offers=service_changes.addon_offers(service, today()),
    )


@shop.route("/services/<int:service_id>/addons", methods=["POST"])
def addon_order(service_id: int) -> Response:
    service = _my_service(service_id)
    try:
        held = service_changes.order_addon(
            service, db_id(request.form.get("addon_id")), today=today()
        )
    except ChangeError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("shop.service_view", service_id=service_id))
    order = db.session.get(Order, held.order_id)
    if order is not None and order.invoice_id is not None:
        flash(_("The add-on is ordered. It is active as soon as the invoice is paid."), "success")
        return redirect(url_for("client_billing.invoice_view", invoice_id=order.invoice_id))
    flash(_("Done. The add-on is active."), "success")
    return redirect(url_for("shop.service_view", service_id=service_id))


@shop.route("/services/<int:service_id>/change", methods=["GET", "POST"])
def change(service_id: int) -> Response | str:
    """Upgrade/downgrade: choose the final quantity, product or cycle, see the preview, confirm."""
    service = _my_service(service_id)
    preview = None
    errors: list[str] = []
    if "cycle" in request.values:
        change_req, errors = read_change_request(service, staff=False)
        if change_req is not None:
            try:
                if request.method == "POST" and request.form.get("action") == "confirm":
                    return _confirm(service, change_req)
                preview = service_changes.preview(service, change_req, today=today())
            except ChangeError as exc:
                db.session.rollback()
                errors.append(str(exc))
    context: dict[str, Any] = change_form_context(service, staff=False)
    return render_template("client/services/change.html", preview=preview, errors=errors, **context)


def _confirm(service: Service, change_req: service_changes.ChangeRequest) -> Response:
    record = service_changes.confirm(service, change_req, today=today())
    if record.invoice_id is not None:
        flash(_("Your change is ordered. It applies as soon as the invoice is paid."), "success")
        return redirect(url_for("client_billing.invoice_view", invoice_id=record.invoice_id))
    if record.total < 0:
        flash(
            _(
                "Done. The change applies now and %(amount)s is added to your credit balance.",
                amount=money(-record.total, service.currency),
            ),
            "success",
        )
    else:
        flash(_("Done. The change applies now."), "success")
    return redirect(url_for("shop.service_view", service_id=service.id))
