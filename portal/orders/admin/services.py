"""Services in the admin area: the list (and the "due within 7 days" list behind the dashboard
counter), the service page (status, cycle, next due date, recurring amount, options, add-ons,
admin notes, do-not-suspend-until, terminate at period end, move to another client), and the
upgrade/downgrade popup with the same preview the client sees."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import false, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portal.accounts.models import Client
from portal.accounts.models.permissions import Permission
from portal.catalog import catalog
from portal.catalog.catalog import CatalogError
from portal.catalog.models import Product
from portal.core.clock import today
from portal.core.extensions import db
from portal.orders import provisioning, service_changes
from portal.orders.forms import (
    CHANGE_STATUS_LABELS,
    MoveServiceForm,
    ServiceForm,
    change_form_context,
    read_change_request,
)
from portal.orders.models import Order, OrderSource, Service, ServiceAddon, ServiceStatus
from portal.orders.models.order import ServiceChange
from portal.orders.models.service import SERVICE_STATUS_LABELS
from portal.orders.service_changes import ChangeError
from portal.platform import search
from portal.web.formatting import plain_number as plain
from portal.web.identity import Area
from portal.web.paging import keyset_page, nulls_last
from portal.web.permissions import current_staff_can, requires
from portal.web.query_args import db_id

admin_services = Blueprint("admin_services", __name__, url_prefix="/admin/services")
admin_services.portal_area = Area.ADMIN  # type: ignore[attr-defined]

DUE_WITHIN = timedelta(days=7)


def _service_or_404(service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    if service is None:
        abort(404)
    return service


@admin_services.route("")
@admin_services.route("/due", endpoint="due", defaults={"due": True})
@requires(Permission.CLIENTS_VIEW)
def index(due: bool = False) -> str:
    stmt = select(Service).options(selectinload(Service.product), selectinload(Service.client))
    status = request.args.get("status", "")
    if due:
        day = today()
        stmt = stmt.where(
            Service.status == ServiceStatus.ACTIVE,
            Service.next_due_date >= day,
            Service.next_due_date <= day + DUE_WITHIN,
        )
    elif status in {s.value for s in ServiceStatus}:
        stmt = stmt.where(Service.status == ServiceStatus(status))
    search_text = search.from_args(request.args)
    if search_text.problem:
        stmt = stmt.where(false())
    elif search_text:
        # the client part uses the shared client search and its indexes (docs/development.md)
        products = select(Product.id).where(search.contains(Product.name, search_text.text))
        stmt = stmt.where(
            or_(
                Service.client_id.in_(search.client_ids(search_text)),
                search.contains(Service.username, search_text.text),
                Service.product_id.in_(products),
            )
        )
    # next due first, no date last: a keyset on the date read as 9999-12-31 when there is none,
    # which the index ix_service_due_order reads in order (docs/performance.md)
    page = keyset_page(
        stmt, sort=nulls_last(Service.next_due_date), id_column=Service.id, descending=False
    )
    return render_template(
        "admin/services/list.html",
        page=page,
        due=due,
        status=status,
        labels=SERVICE_STATUS_LABELS,
        cycle_labels=catalog.CYCLE_LABELS,
        args={k: v for k, v in request.args.items() if k != "page"},
    )


def _service_form(service: Service) -> ServiceForm:
    form = ServiceForm(obj=service)
    if request.method == "GET":
        form.status.data = service.status.value
        form.price_override.data = plain(service.price_override)
    return form


def _page(service: Service, form: ServiceForm | None = None, **context: Any) -> str:
    changes = db.session.scalars(
        select(ServiceChange)
        .where(ServiceChange.service_id == service.id)
        .order_by(ServiceChange.id.desc())
    ).all()
    addons = db.session.scalars(
        select(ServiceAddon)
        .where(ServiceAddon.service_id == service.id)
        .options(selectinload(ServiceAddon.addon))
    ).all()
    first_order = db.session.scalar(
        select(Order.id)
        .join(Order.items)
        .where(
            Order.client_id == service.client_id,
            Order.items.any(service_id=service.id),
        )
        .order_by(Order.id)
        .limit(1)
    )
    details = catalog.option_details(
        service.product, service.currency, catalog.service_options(service)
    )
    return render_template(
        "admin/services/view.html",
        service=service,
        client=service.client,
        form=form or _service_form(service),
        move_form=MoveServiceForm(),
        changes=changes,
        addons=addons,
        details=details,
        order_id=first_order,
        labels=SERVICE_STATUS_LABELS,
        change_labels=CHANGE_STATUS_LABELS,
        day_count_labels={d.value: label for d, label in catalog.DAY_COUNT_LABELS.items()},
        cycle_labels=catalog.CYCLE_LABELS,
        can_edit=current_staff_can(Permission.ORDERS_MANAGE),
        pending=service_changes.pending_change(service),
        provisioning_tasks=provisioning.recent_tasks(service.id),
        offers=service_changes.addon_offers(service, today()),
        **context,
    )


@admin_services.route("/<int:service_id>", methods=["GET", "POST"])
@requires(Permission.CLIENTS_VIEW)
def view(service_id: int) -> Response | str:
    service = _service_or_404(service_id)
    form = _service_form(service)
    if request.method == "POST":
        if not current_staff_can(Permission.ORDERS_MANAGE):
            abort(403)
        if form.validate():
            values = {
                name: getattr(form, name).data
                for name in (
                    "status",
                    "next_due_date",
                    "username",
                    "no_suspend_until",
                    "terminate_at_period_end",
                    "termination_reason",
                    "admin_notes",
                )
            }
            try:
                values["price_override"] = catalog.parse_money(
                    form.price_override.data, "price_override", _("Price override")
                )
                service_changes.update_service(service, values)
            except (ChangeError, CatalogError) as exc:
                db.session.rollback()
                flash(str(exc), "danger")
                return _page(_service_or_404(service_id), form)
            flash(_("Saved."), "success")
            return redirect(url_for("admin_services.view", service_id=service_id))
    return _page(service, form)


@admin_services.route("/<int:service_id>/move", methods=["POST"])
@requires(Permission.ORDERS_MANAGE)
def move(service_id: int) -> Response:
    service = _service_or_404(service_id)
    form = MoveServiceForm()
    target = db.session.get(Client, db_id(form.client_id.data) or 0) if form.validate() else None
    if target is None:
        flash(_("There is no client with this ID."), "danger")
        return redirect(url_for("admin_services.view", service_id=service_id))
    try:
        service_changes.move_service(service, target)
    except ChangeError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        flash(_("The service now belongs to %(client)s.", client=target.display_name), "success")
    return redirect(url_for("admin_services.view", service_id=service_id))


@admin_services.route("/<int:service_id>/addons", methods=["POST"])
@requires(Permission.ORDERS_MANAGE)
def addon_order(service_id: int) -> Response:
    service = _service_or_404(service_id)
    try:
        held = service_changes.order_addon(
            service,
            db_id(request.form.get("addon_id")),
            today=today(),
            staff_id=current_user.id,
            source=OrderSource.STAFF,
        )
    except ChangeError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("admin_services.view", service_id=service_id))
    flash(_("Add-on ordered."), "success")
    return redirect(url_for("admin_orders.view", order_id=held.order_id))


@admin_services.route("/<int:service_id>/change", methods=["GET", "POST"])
@requires(Permission.ORDERS_MANAGE)
def change(service_id: int) -> Response | str:
    """The upgrade/downgrade popup: preview with any input, confirm to make the order."""
    service = _service_or_404(service_id)
    preview = None
    errors: list[str] = []
    if "cycle" in request.values:
        change_req, errors = read_change_request(service, staff=True)
        if change_req is not None:
            try:
                if request.method == "POST" and request.form.get("action") == "confirm":
                    record = service_changes.confirm(
                        service,
                        change_req,
                        today=today(),
                        staff_id=current_user.id,
                        source=OrderSource.STAFF,
                    )
                    flash(_("Change order #%(id)s created.", id=record.order_id), "success")
                    return redirect(url_for("admin_orders.view", order_id=record.order_id))
                preview = service_changes.preview(service, change_req, today=today(), staff=True)
            except ChangeError as exc:
                db.session.rollback()
                errors.append(str(exc))
    return render_template(
        "admin/services/change.html",
        preview=preview,
        errors=errors,
        **change_form_context(service, staff=True),
    )
