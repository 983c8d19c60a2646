"""Admin views: dashboard, menu sections, client list, plugins, settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.accounts.models import Permission, Staff
from portal.accounts.staff import note_online
from portal.core.app_state import clock, plugins
from portal.core.extensions import db
from portal.platform import runtime_settings
from portal.platform.admin.dashboard import visible_counters
from portal.platform.forms import ThemeForm
from portal.platform.themes import theme_dirs
from portal.web.identity import Area
from portal.web.menu import ADMIN_SECTIONS, MenuItem
from portal.web.permissions import current_staff_can, requires

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
    MenuItem("clients", _l("Client list"), "admin_clients.index", 10, "clients.view"),
    MenuItem("clients", _l("Add client"), "admin_clients.create", 20, "clients.edit"),
    MenuItem("clients", _l("To-do list"), "admin_work.todos", 30),
    MenuItem("clients", _l("My notes"), "admin_work.my_notes", 40),
    MenuItem(
        "settings",
        _l("Custom client fields"),
        "admin_client_settings.custom_fields",
        30,
        "settings.manage",
    ),
    MenuItem(
        "settings",
        _l("Client groups"),
        "admin_client_settings.client_groups",
        40,
        "settings.manage",
    ),
    MenuItem(
        "settings", _l("Client area"), "admin_client_settings.client_area", 50, "settings.manage"
    ),
    MenuItem("billing", _l("Invoices"), "admin_billing.invoice_list", 10, "billing.view"),
    MenuItem("utilities", _l("Scheduled jobs"), "admin_jobs.index", 10, "settings.manage"),
    MenuItem(
        "utilities",
        _l("Provisioning queue"),
        "admin_provisioning.index",
        20,
        Permission.CLIENTS_VIEW,
    ),
    MenuItem("billing", _l("New invoice"), "admin_billing.invoice_new", 20, "billing.manage"),
    MenuItem("billing", _l("Payments"), "admin_billing.payment_list", 30, "billing.view"),
    MenuItem(
        "billing", _l("Bank statement import"), "admin_bank_import.upload", 32, "billing.manage"
    ),
    MenuItem(
        "billing", _l("Unmatched payments"), "admin_bank_import.unmatched", 34, "billing.view"
    ),
    MenuItem("billing", _l("Billing runs"), "admin_billing_runs.runs", 40, "billing.view"),
    MenuItem("billing", _l("Forecast"), "admin_billing_runs.forecast_page", 45, "billing.view"),
    MenuItem("orders", _l("List all orders"), "admin_orders.index", 10, "orders.manage"),
    MenuItem("orders", _l("Pending orders"), "admin_orders.pending", 20, "orders.manage"),
    MenuItem("orders", _l("Add order"), "admin_orders.new", 30, "orders.manage"),
    MenuItem("clients", _l("Products/services"), "admin_services.index", 25, "clients.view"),
    MenuItem("settings", _l("Products and services"), "admin_catalog.index", 20, "settings.manage"),
    MenuItem("settings", _l("Promo codes"), "admin_catalog.promo_list", 21, "settings.manage"),
    MenuItem(
        "settings",
        _l("Company and invoices"),
        "admin_billing.company_settings",
        5,
        "settings.manage",
    ),
    MenuItem("settings", _l("Taxes"), "admin_billing.tax_settings", 6, "settings.manage"),
    MenuItem("settings", _l("Automation"), "admin_automation.automation", 8, "settings.manage"),
    MenuItem(
        "settings",
        _l("E-mail templates"),
        "admin_mail_templates.index",
        8,
        Permission.SETTINGS_MANAGE,
    ),
    MenuItem(
        "settings", _l("Outgoing mail"), "admin_mail_settings.index", 9, Permission.SETTINGS_MANAGE
    ),
    MenuItem("settings", _l("Currencies"), "admin_billing.currency_settings", 7, "settings.manage"),
    MenuItem(
        "plugins", _l("Installed plugins"), "admin_plugins.index", 10, Permission.PLUGINS_MANAGE
    ),
    MenuItem(
        "settings", _l("Appearance"), "admin.settings_appearance", 10, Permission.SETTINGS_MANAGE
    ),
    MenuItem(
        "settings", _l("Staff members"), "staff_admin.staff_list", 50, Permission.STAFF_MANAGE
    ),
    MenuItem("settings", _l("Roles"), "staff_admin.role_list", 51, Permission.STAFF_MANAGE),
    MenuItem(
        "settings", _l("Departments"), "staff_admin.department_list", 52, Permission.STAFF_MANAGE
    ),
    MenuItem("settings", _l("Security"), "staff_admin.security", 60, Permission.SETTINGS_MANAGE),
    MenuItem("utilities", _l("Audit log"), "staff_admin.audit_log", 50, Permission.AUDIT_VIEW),
    MenuItem("support", _l("Tickets"), "admin_support.index", 10, Permission.SUPPORT_VIEW),
    MenuItem("support", _l("Open ticket"), "admin_support.create", 20, Permission.SUPPORT_REPLY),
    MenuItem(
        "support", _l("Canned replies"), "admin_support.canned_list", 30, Permission.SUPPORT_REPLY
    ),
    MenuItem("reports", _l("Overview"), "admin_reports.index", 1, Permission.REPORTS_VIEW),
    MenuItem("utilities", _l("E-mail queue"), "admin_outbox.index", 40, Permission.SETTINGS_MANAGE),
    MenuItem(
        "settings",
        _l("Support departments"),
        "admin_support_settings.departments",
        53,
        Permission.SETTINGS_MANAGE,
    ),
    MenuItem(
        "settings",
        _l("Business hours"),
        "admin_support_settings.hours_list",
        54,
        Permission.SETTINGS_MANAGE,
    ),
    MenuItem(
        "settings",
        _l("SLA policies"),
        "admin_support_settings.sla_list",
        55,
        Permission.SETTINGS_MANAGE,
    ),
    MenuItem(
        "settings",
        _l("Escalation rules"),
        "admin_support_settings.rule_list",
        56,
        Permission.SETTINGS_MANAGE,
    ),
)


@admin.before_request
def _mark_online() -> None:
    """Staff sign-in is checked for every admin view (portal.web.identity); note who is online."""
    note_online(current_user._get_current_object())


def menu() -> dict[str, list[MenuItem]]:
    """The sections and links the signed-in staff member may open: a section none of whose
    links their role allows is left out rather than shown empty (every link would be a 403).

    Built once per set of plugins, language and set of permissions, with the labels translated:
    every admin page shows it, and sorting, checking and translating some sixty links took a
    tenth of a list page's Python time. Kept with the plugins (``PortalPlugins.memo``), so a
    plugin enabled or disabled by staff rebuilds it."""
    staff = current_user._get_current_object()
    if not isinstance(staff, Staff):
        return _menu()
    cache: dict[tuple[str, frozenset[str]], dict[str, list[MenuItem]]]
    cache = plugins().memo.setdefault("admin_menu", {})
    key = (str(get_locale()), frozenset(str(p) for p in staff.permissions))
    found = cache.get(key)
    if found is None:
        found = cache[key] = _menu()
    return found


def _menu() -> dict[str, list[MenuItem]]:
    items = [*CORE_MENU, *plugins().collect("register_admin_menu_items")]
    by_section: dict[str, list[MenuItem]] = {section: [] for section in ADMIN_SECTIONS}
    for item in sorted(items, key=lambda i: (i.order, str(i.label))):
        if item.permission is None or current_staff_can(item.permission):
            by_section[item.section].append(replace(item, label=str(item.label)))
    return {section: links for section, links in by_section.items() if links}


@admin.app_context_processor
def _admin_shell() -> dict[str, object]:
    """The admin layout's menu, section titles and counters, for every template."""
    return {"admin_menu": menu, "section_titles": SECTION_TITLES, "counters": visible_counters}


@admin.route("/")
@requires()
def dashboard() -> str:
    window = clock().now() - timedelta(minutes=current_app.config["PORTAL"]["staff_online_minutes"])
    online = db.session.scalars(
        select(Staff)
        .where(Staff.last_seen_at >= window, Staff.is_active.is_(True))
        .order_by(Staff.first_name)
    ).all()
    from portal.orders.provisioning import failed_count
    from portal.platform.jobs.runs import last_runs, recent_failures

    failed_jobs = recent_failures(clock().now() - timedelta(hours=24))
    # the last money check's result stays up until a check finds everything in agreement
    money_check = last_runs(["billing.money_check"]).get("billing.money_check")
    counts = money_check.counts if money_check is not None else {}
    return render_template(
        "admin/dashboard.html",
        online=online,
        failed_jobs=failed_jobs,
        failed_provisioning=failed_count(),
        money_drift=counts.get("invoice_drift", 0) + counts.get("credit_drift", 0),
    )


@admin.route("/section/<name>")
@requires()
def section(name: str) -> str:
    if name not in ADMIN_SECTIONS:
        abort(404)
    items = menu().get(name)
    if items is None:
        abort(403)
    return render_template("admin/section.html", name=name, items=items)


@admin.route("/settings/appearance", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def settings_appearance() -> Response | str:
    form = ThemeForm()
    # A theme is its directory's name; the built-in one reads as a word, not as "default".
    form.theme.choices = [
        (name, _("Built-in theme") if name == "default" else name)
        for name in theme_dirs(current_app)
    ]
    if request.method == "GET":
        form.theme.data = runtime_settings.get("theme", current_app.config["PORTAL"]["theme"])
    if form.validate_on_submit():
        runtime_settings.put("theme", form.theme.data)
        flash(_("The client-area theme is now %(theme)s.", theme=form.theme.data), "success")
        return redirect(url_for("admin.settings_appearance"))
    return render_template("admin/settings_appearance.html", form=form)
