"""Admin views: dashboard, menu sections, client list, plugins, settings."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from portal.extensions import db
from portal.models import Client, Staff
from portal.services import runtime_settings
from portal.web.admin.dashboard import COUNTERS
from portal.web.admin.forms import ThemeForm
from portal.app_state import clock, plugins
from portal.web.csv_export import csv_response
from portal.web.identity import Area
from portal.web.menu import ADMIN_SECTIONS, MenuItem
from portal.web.theming import theme_dirs

admin = Blueprint("admin", __name__, url_prefix="/admin")
admin.portal_area = Area.ADMIN  # type: ignore[attr-defined]

SECTION_TITLES = {
    "clients": _l("Clients"),
    "orders": _l("Orders"),
    "billing": _l("Billing"),
    "support": _l("Support"),
    "reports": _l("Reports"),
    "utilities": _l("Utilities"),
    "plugins": _l("Plugins"),
    "settings": _l("Settings"),
}

CORE_MENU = (
    MenuItem("clients", _l("Client list"), "admin.clients", order=10),
    MenuItem("plugins", _l("Installed plugins"), "admin.plugin_list", order=10),
    MenuItem("settings", _l("Appearance"), "admin.settings_appearance", order=10),
)

SEEN_EVERY = timedelta(minutes=1)


@admin.before_request
def _mark_online() -> None:
    """Staff sign-in is checked for every admin view (portal.web.identity); note who is online."""
    now = clock().now()
    if current_user.last_seen_at is None or now - current_user.last_seen_at > SEEN_EVERY:
        current_user.last_seen_at = now
        db.session.commit()


def menu() -> dict[str, list[MenuItem]]:
    items = [*CORE_MENU, *plugins().collect("register_admin_menu_items")]
    by_section: dict[str, list[MenuItem]] = {section: [] for section in ADMIN_SECTIONS}
    for item in sorted(items, key=lambda i: (i.order, str(i.label))):
        by_section[item.section].append(item)
    return by_section


@admin.context_processor
def _admin_shell() -> dict[str, object]:
    return {"admin_menu": menu, "section_titles": SECTION_TITLES, "counters": COUNTERS}


@admin.route("/")
def dashboard() -> str:
    window = clock().now() - timedelta(minutes=current_app.config["PORTAL"]["staff_online_minutes"])
    online = db.session.scalars(
        select(Staff)
        .where(Staff.last_seen_at >= window, Staff.is_active.is_(True))
        .order_by(Staff.first_name)
    ).all()
    return render_template("admin/dashboard.html", online=online)


@admin.route("/section/<name>")
def section(name: str) -> str:
    if name not in ADMIN_SECTIONS:
        abort(404)
    return render_template("admin/section.html", name=name, items=menu()[name])


@admin.route("/clients")
def clients() -> Response | str:
    query = request.args.get("q", "").strip()
    stmt = select(Client).order_by(Client.id.desc())
    if query:
        like = f"%{query.lower()}%"
        conditions = [
            Client.email.like(like),
            Client.first_name.ilike(like),
            Client.last_name.ilike(like),
            Client.company.ilike(like),
            Client.phone.like(like),
        ]
        if query.isdigit():
            conditions.append(Client.id == int(query))
        stmt = stmt.where(or_(*conditions))
    if request.args.get("format") == "csv":
        rows = db.session.scalars(stmt).all()
        return csv_response(
            "clients.csv",
            [_("ID"), _("Name"), _("Company"), _("E-mail"), _("Phone"), _("Status")],
            ((c.id, c.full_name, c.company, c.email, c.phone, c.status.value) for c in rows),
        )
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template("admin/clients.html", page=page, q=query)


@admin.route("/plugins")
def plugin_list() -> str:
    return render_template("admin/plugins.html", infos=sorted(plugins().infos.values(), key=str))


@admin.route("/settings/appearance", methods=["GET", "POST"])
def settings_appearance() -> Response | str:
    form = ThemeForm()
    form.theme.choices = [(name, name) for name in theme_dirs(current_app)]
    if request.method == "GET":
        form.theme.data = runtime_settings.get("theme", current_app.config["PORTAL"]["theme"])
    if form.validate_on_submit():
        runtime_settings.put("theme", form.theme.data)
        flash(_("The client-area theme is now %(theme)s.", theme=form.theme.data), "success")
        return redirect(url_for("admin.settings_appearance"))
    return render_template("admin/settings_appearance.html", form=form)
