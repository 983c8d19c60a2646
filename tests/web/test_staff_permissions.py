"""Permissions: views answer 403 to staff whose role lacks a permission, menus hide what they
cannot open, and every core admin view declares what it needs."""

import pytest
from flask import Flask, render_template_string

from portal import hookimpl
from portal.accounts.models import BuiltinRole, Permission
from portal.accounts.staff import builtin_role
from portal.testing.factories import make_staff
from portal.testing.web import WebClient
from portal.web.menu import MenuItem

ADMIN_ONLY_PAGES = [
    "/admin/plugins",
    "/admin/settings/appearance",
    "/admin/settings/security",
    "/admin/staff",
    "/admin/staff/new",
    "/admin/roles",
    "/admin/roles/new",
    "/admin/departments",
    "/admin/audit",
]


def staff_roles(app: Flask) -> list[str]:
    from portal.accounts.staff import roles

    return [role.name for role in roles()]


def signed_in(app: Flask, staff) -> WebClient:
    web = app.test_client()
    web.sign_in_staff(staff.email)
    return web  # type: ignore[return-value]


@pytest.fixture
def support_web(app: Flask, clock) -> WebClient:
    return signed_in(app, make_staff(clock, role="support", first_name="Саппорт"))


@pytest.mark.parametrize("url", ADMIN_ONLY_PAGES)
def test_support_gets_403_where_it_lacks_the_permission(support_web, staff_web, url) -> None:
    refused = support_web.get(url)
    assert refused.status_code == 403
    assert "You do not have permission to do this." in refused.get_data(as_text=True)
    assert staff_web.get(url).status_code == 200  # the administrator may


def test_the_403_page_is_translated(support_web) -> None:
    page = support_web.get("/admin/staff", headers={"Accept-Language": "ru"})
    assert page.status_code == 403
    assert "У вас нет прав" in page.get_data(as_text=True)


def test_forms_are_refused_too_not_only_pages(support_web, app: Flask) -> None:
    response = support_web.submit(
        "/admin/roles/new",
        {"name": "Боги", "permissions": ["billing.manage"]},
        form_page="/admin/",
    )
    assert response.status_code == 403
    assert "Боги" not in staff_roles(app)


def test_sign_in_only_pages_stay_open(support_web) -> None:
    assert support_web.get("/admin/").status_code == 200
    assert support_web.get("/admin/section/clients").status_code == 200
    assert support_web.get("/admin/profile").status_code == 200


def test_menu_hides_what_the_staff_member_cannot_open(support_web, staff_web) -> None:
    hidden = ['href="/admin/plugins"', 'href="/admin/staff"', 'href="/admin/audit"']
    support_page = support_web.get("/admin/").get_data(as_text=True)
    admin_page = staff_web.get("/admin/").get_data(as_text=True)
    for link in hidden:
        assert link not in support_page
        assert link in admin_page
    section = support_web.get("/admin/section/settings").get_data(as_text=True)
    assert 'href="/admin/settings/appearance"' not in section


def test_staff_without_a_role_holds_nothing(app: Flask, clock) -> None:
    web = signed_in(app, make_staff(clock, role=None))
    assert web.get("/admin/").status_code == 200
    assert web.get("/admin/plugins").status_code == 403


def test_can_helper_in_templates(app: Flask, clock) -> None:
    support = make_staff(clock, role="support")
    web = signed_in(app, support)
    assert support.can(Permission.SUPPORT_REPLY) and not support.can("billing.view")
    with app.test_request_context("/admin/"):
        from flask_login import login_user

        login_user(support)
        rendered = render_template_string(
            "{{ can('support.reply') }} {{ can('billing.view') }}", can=app.jinja_env.globals["can"]
        )
    assert rendered == "True False"
    assert web.get("/admin/").status_code == 200


class _MenuPlugin:
    @hookimpl
    def register_admin_menu_items(self):
        return [
            MenuItem("reports", "Secret report", "admin.dashboard", permission="billing.view"),
            MenuItem("reports", "Open report", "admin.dashboard"),
        ]


def test_plugin_menu_items_can_require_a_permission(make_app, clock) -> None:
    app = make_app(extra_plugins=(_MenuPlugin(),))
    with app.app_context():
        accountant = signed_in(app, make_staff(clock, role="accountant"))
        support = signed_in(app, make_staff(clock, role="support"))
        assert "Secret report" in accountant.get("/admin/section/reports").get_data(as_text=True)
        page = support.get("/admin/section/reports").get_data(as_text=True)
        assert "Secret report" not in page and "Open report" in page


def test_builtin_roles_hold_what_the_issue_says(app: Flask) -> None:
    accountant = builtin_role(BuiltinRole.ACCOUNTANT).permissions
    assert accountant == {
        Permission.BILLING_VIEW,
        Permission.BILLING_MANAGE,
        Permission.CLIENTS_VIEW,
    }
    assert builtin_role("support").permissions == {
        Permission.CLIENTS_VIEW,
        Permission.SUPPORT_VIEW,
        Permission.SUPPORT_REPLY,
    }
    assert builtin_role("sales_manager").permissions == {
        Permission.CLIENTS_VIEW,
        Permission.CLIENTS_EDIT,
        Permission.ORDERS_MANAGE,
        Permission.REPORTS_VIEW,
    }
    assert builtin_role("administrator").permissions == set(Permission)


def test_every_core_admin_view_declares_its_permissions(app: Flask) -> None:
    """``@requires(...)`` or ``@requires()`` (sign-in only) on every admin view of the core, and
    only permissions that exist (the shell takes their names as they are)."""
    undeclared, unknown = [], []
    for rule in app.url_map.iter_rules():
        blueprint = (
            app.blueprints.get(rule.endpoint.split(".")[0]) if "." in rule.endpoint else None
        )
        if getattr(blueprint, "portal_area", None) != "admin":
            continue
        if getattr(blueprint, "portal_public", False):
            continue
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, "portal_permissions"):
            undeclared.append(rule.endpoint)
        elif not set(view.portal_permissions) <= {p.value for p in Permission}:
            unknown.append(rule.endpoint)
    assert undeclared == []
    assert unknown == []


def test_sections_and_counters_follow_the_role(app: Flask, clock, support_web, staff_web) -> None:
    """A support-only role saw every menu section and the order and invoice counters, each
    leading to a 403."""
    support_page = support_web.get("/admin/").get_data(as_text=True)
    admin_page = staff_web.get("/admin/").get_data(as_text=True)
    for section in ("orders", "billing", "settings", "plugins"):
        link = f'href="/admin/section/{section}"'
        assert link not in support_page and link in admin_page
        assert support_web.get(f"/admin/section/{section}").status_code == 403
    for section in ("clients", "support"):
        assert f'href="/admin/section/{section}"' in support_page
    for endpoint in ("/admin/orders/pending", "/admin/billing/invoices/overdue"):
        assert f'href="{endpoint}"' not in support_page and f'href="{endpoint}"' in admin_page
    assert 'href="/admin/support"' in support_page  # tickets awaiting reply stay


def test_only_staff_who_answer_tickets_can_be_assigned(app: Flask, clock, staff_web) -> None:
    from portal.support import tickets
    from portal.support.tickets import TicketError
    from tests.fixtures.mail.desk import make_desk

    desk = make_desk(clock)
    accountant = make_staff(clock, role="accountant", first_name="Бухгалтер")
    helper = make_staff(clock, role="support", first_name="Саппорт")
    ticket = tickets.open_ticket(
        subject="Вопрос", body="?", client=desk.client, department_id=desk.support.id
    )
    page = staff_web.get(f"/admin/support/{ticket.id}").get_data(as_text=True)
    assignees = page.split('name="assigned_staff_id"', 1)[1].split("</select>", 1)[0]
    assert f'value="{helper.id}"' in assignees and f'value="{accountant.id}"' not in assignees
    with pytest.raises(TicketError, match="may not answer tickets"):
        tickets.update_ticket(ticket, helper, {"assigned_staff_id": accountant.id})
    tickets.update_ticket(ticket, helper, {"assigned_staff_id": helper.id})
    assert ticket.assigned_staff_id == helper.id
