"""Staff, roles and departments pages: creating and editing staff, blocking, no privilege
escalation, the last administrator, departments, and constant query counts."""

import html
import re

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from portal.accounts import staff as staff_service
from portal.accounts.models import AuditEntry, Department, Permission, Role, Staff
from portal.accounts.staff import StaffError
from portal.core.extensions import db
from portal.testing.factories import PASSWORD, make_staff
from portal.testing.web import WebClient

NEW_PASSWORD = "a brand new password"


def signed_in(app: Flask, staff) -> WebClient:
    web = app.test_client()
    web.sign_in_staff(staff.email)
    return web  # type: ignore[return-value]


def errors(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def staff_form(member: Staff, **changes) -> dict:
    values = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email,
        "role": str(member.role_id),
        "departments": [str(d.id) for d in member.departments],
        "language": member.language or "",
        "password": "",
    }
    if not member.is_active:
        values["blocked"] = "y"
    values.update(changes)
    return values


def new_staff_form(role: Role, **fields) -> dict:
    values = {
        "first_name": "Новый",
        "last_name": "",
        "email": "new@example.com",
        "role": str(role.id),
        "language": "",
        "password": NEW_PASSWORD,
    }
    values.update(fields)
    return values


@pytest.fixture
def hr_role(app: Flask) -> Role:
    """A custom role that may manage staff but holds little else."""
    role = Role(
        name="HR",
        permission_names=[Permission.STAFF_MANAGE, Permission.CLIENTS_VIEW],
    )
    db.session.add(role)
    db.session.commit()
    return role


@pytest.fixture
def hr(app: Flask, clock, hr_role: Role) -> Staff:
    return make_staff(clock, role=hr_role, first_name="Кадровик")


def audit_entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- creating and editing ---------------------------------------------------------------------


def test_administrator_creates_staff_with_role_and_departments(staff_web, app: Flask) -> None:
    sales = staff_service.save_department(None, name="Продажи", email="Sales@Example.com")
    support_role = staff_service.builtin_role("support")
    response = staff_web.submit(
        "/admin/staff/new",
        {
            "first_name": "Ольга",
            "last_name": "Поддержка",
            "email": "Olga@Example.com",
            "role": str(support_role.id),
            "departments": [str(sales.id)],
            "language": "ru",
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, errors(response)
    olga = db.session.scalar(select(Staff).where(Staff.email == "olga@example.com"))
    assert olga.role_id == support_role.id
    assert [d.name for d in olga.departments] == ["Продажи"]
    assert olga.check_password(NEW_PASSWORD) and olga.language == "ru"
    [entry] = audit_entries("staff.create")
    assert entry.entity_id == str(olga.id)
    assert entry.after["role"] == "Support" and entry.after["departments"] == ["Продажи"]
    assert "password" not in entry.after and "password_hash" not in entry.after
    assert sales.email == "sales@example.com"


def test_unknown_and_out_of_range_ids_are_404(staff_web) -> None:
    for url in ("/admin/staff/999", "/admin/staff/99999999999", "/admin/roles/99999999999"):
        assert staff_web.get(url).status_code == 404, url


def test_email_is_unique_whatever_the_case(staff_web, staff_member) -> None:
    response = staff_web.submit(
        "/admin/staff/new", new_staff_form(staff_member.role, email=staff_member.email.upper())
    )
    assert response.status_code == 200
    assert "A staff member with this e-mail already exists." in errors(response)
    assert db.session.scalar(select(func.count()).select_from(Staff)) == 1


def test_reset_password_signs_the_staff_member_out(app: Flask, staff_web, clock) -> None:
    other = make_staff(clock, role="support")
    other_web = signed_in(app, other)
    url = f"/admin/staff/{other.id}"
    response = staff_web.submit(url, staff_form(other, password=NEW_PASSWORD))
    assert response.status_code == 302, errors(response)
    assert other_web.get("/admin/").status_code == 302
    db.session.refresh(other)
    assert other.check_password(NEW_PASSWORD)
    [entry] = audit_entries("staff.update")
    assert entry.note == "password reset" and entry.after == {}


def test_blocked_staff_cannot_sign_in_and_are_hidden_by_default(
    app: Flask, staff_web, clock
) -> None:
    other = make_staff(clock, role="support", first_name="Уволенный")
    other_web = signed_in(app, other)
    response = staff_web.submit(f"/admin/staff/{other.id}", staff_form(other, blocked="y"))
    assert response.status_code == 302, errors(response)

    assert other_web.get("/admin/").status_code == 302  # signed out at once
    again = app.test_client().submit("/admin/login", {"email": other.email, "password": PASSWORD})
    assert "Wrong e-mail or password." in again.get_data(as_text=True)

    listed = staff_web.get("/admin/staff").get_data(as_text=True)
    assert "Уволенный" not in listed
    with_blocked = staff_web.get("/admin/staff?blocked=1").get_data(as_text=True)
    assert "Уволенный" in with_blocked and "blocked" in with_blocked
    [entry] = audit_entries("staff.block")
    assert entry.before == {"is_active": True} and entry.after == {"is_active": False}


def test_nobody_blocks_themselves(staff_web, staff_member, clock) -> None:
    make_staff(clock)  # another administrator exists, so only the self-rule applies
    response = staff_web.submit(
        f"/admin/staff/{staff_member.id}", staff_form(staff_member, blocked="y")
    )
    assert "You cannot block yourself." in errors(response)
    db.session.refresh(staff_member)
    assert staff_member.is_active


# --- no privilege escalation ------------------------------------------------------------------


def test_cannot_create_a_role_with_permissions_one_lacks(app: Flask, hr) -> None:
    web = signed_in(app, hr)
    refused = web.submit(
        "/admin/roles/new",
        {"name": "Почти бухгалтер", "permissions": ["clients.view", "billing.manage"]},
    )
    assert refused.status_code == 200
    assert "You cannot grant permissions you do not hold: Manage invoices and payments." in errors(
        refused
    )
    assert db.session.scalar(select(Role).where(Role.name == "Почти бухгалтер")) is None

    allowed = web.submit(
        "/admin/roles/new", {"name": "Наблюдатель", "permissions": ["clients.view"]}
    )
    assert allowed.status_code == 302
    role = db.session.scalar(select(Role).where(Role.name == "Наблюдатель"))
    assert role.permissions == {Permission.CLIENTS_VIEW}


def test_cannot_widen_ones_own_role(app: Flask, hr, hr_role: Role) -> None:
    web = signed_in(app, hr)
    response = web.submit(
        f"/admin/roles/{hr_role.id}",
        {"name": "HR", "permissions": ["staff.manage", "clients.view", "settings.manage"]},
    )
    assert "You cannot grant permissions you do not hold: Change settings." in errors(response)
    db.session.refresh(hr_role)
    assert Permission.SETTINGS_MANAGE not in hr_role.permissions


def test_cannot_change_a_role_holding_more_than_oneself(app: Flask, hr) -> None:
    accountant = staff_service.builtin_role("accountant")
    web = signed_in(app, hr)
    response = web.submit(
        f"/admin/roles/{accountant.id}", {"name": "Accountant", "permissions": ["clients.view"]}
    )
    assert "You cannot change a role that has permissions you do not hold" in errors(response)
    db.session.refresh(accountant)
    assert Permission.BILLING_MANAGE in accountant.permissions


def test_cannot_give_a_role_with_permissions_one_lacks(app: Flask, hr, clock) -> None:
    web = signed_in(app, hr)
    accountant = staff_service.builtin_role("accountant")
    response = web.submit("/admin/staff/new", new_staff_form(accountant, email="buh@example.com"))
    assert "You cannot grant permissions you do not hold" in errors(response)
    assert db.session.scalar(select(Staff).where(Staff.email == "buh@example.com")) is None

    junior = make_staff(clock, role=None)
    promote = web.submit(f"/admin/staff/{junior.id}", staff_form(junior, role=str(accountant.id)))
    assert "You cannot grant permissions you do not hold" in errors(promote)
    administrator = staff_service.builtin_role("administrator")
    crown = web.submit(f"/admin/staff/{junior.id}", staff_form(junior, role=str(administrator.id)))
    assert "Only an administrator can make someone an administrator." in errors(crown)
    db.session.refresh(junior)
    assert junior.role_id is None


def test_cannot_edit_an_administrator_unless_one_is(app: Flask, hr, staff_member) -> None:
    web = signed_in(app, hr)
    response = web.submit(
        f"/admin/staff/{staff_member.id}",
        staff_form(staff_member, email="stolen@example.com", password=NEW_PASSWORD),
    )
    assert "Only an administrator can change an administrator." in errors(response)
    db.session.refresh(staff_member)
    assert staff_member.email != "stolen@example.com" and staff_member.check_password(PASSWORD)
    administrator_role = staff_service.builtin_role("administrator")
    touch_role = web.submit(
        f"/admin/roles/{administrator_role.id}", {"name": "Administrator", "permissions": []}
    )
    assert "Only an administrator can change the administrator role." in errors(touch_role)


def test_administrator_role_always_holds_everything(staff_web) -> None:
    role = staff_service.builtin_role("administrator")
    response = staff_web.submit(
        f"/admin/roles/{role.id}", {"name": "Главный", "permissions": ["clients.view"]}
    )
    assert response.status_code == 302
    db.session.refresh(role)
    assert role.name == "Главный" and role.permissions == set(Permission)


def test_roles_can_be_deleted_only_when_unused_and_not_built_in(staff_web, clock) -> None:
    support = staff_service.builtin_role("support")
    staff_web.submit(f"/admin/roles/{support.id}/delete", {}, form_page="/admin/roles")
    assert db.session.get(Role, support.id) is not None
    custom = Role(name="Временная", permission_names=["clients.view"])
    db.session.add(custom)
    db.session.commit()
    user = make_staff(clock, role=custom)
    custom_id = custom.id
    page = staff_web.submit(f"/admin/roles/{custom_id}/delete", {}, form_page="/admin/roles")
    assert "This role is given to 1 staff members." in errors(staff_web.get(page.location))
    user.role = support
    db.session.commit()
    staff_web.submit(f"/admin/roles/{custom_id}/delete", {}, form_page="/admin/roles")
    db.session.expire_all()
    assert db.session.get(Role, custom_id) is None
    [entry] = audit_entries("role.delete")
    assert entry.before["name"] == "Временная"


def test_role_changes_are_audited(staff_web) -> None:
    support = staff_service.builtin_role("support")
    response = staff_web.submit(
        f"/admin/roles/{support.id}",
        {
            "name": "Support",
            "description": support.description,
            "permissions": ["clients.view", "support.view", "support.reply", "reports.view"],
        },
    )
    assert response.status_code == 302
    [entry] = audit_entries("role.update")
    assert entry.before == {"permissions": ["clients.view", "support.reply", "support.view"]}
    assert entry.after == {
        "permissions": ["clients.view", "reports.view", "support.reply", "support.view"]
    }


# --- the last administrator -------------------------------------------------------------------


def test_the_last_active_administrator_keeps_the_role(app: Flask, staff_web, staff_member, clock):
    support = staff_service.builtin_role("support")
    demote = staff_web.submit(
        f"/admin/staff/{staff_member.id}", staff_form(staff_member, role=str(support.id))
    )
    assert "The last active administrator must keep the administrator role." in errors(demote)
    db.session.refresh(staff_member)
    assert staff_member.is_administrator

    second = make_staff(clock, first_name="Второй")
    ok = staff_web.submit(f"/admin/staff/{second.id}", staff_form(second, blocked="y"))
    assert ok.status_code == 302  # another administrator may go while one remains
    still_last = staff_web.submit(
        f"/admin/staff/{staff_member.id}", staff_form(staff_member, role=str(support.id))
    )
    assert "must keep the administrator role" in errors(still_last)  # blocked ones do not count


def test_the_last_active_administrator_cannot_be_blocked(app: Flask, clock) -> None:
    last = make_staff(clock)
    stale = make_staff(clock)  # an administrator whose own account was just blocked
    stale.is_active = False
    db.session.commit()
    with (
        app.test_request_context(),
        pytest.raises(StaffError, match=r"The last active administrator cannot be blocked\."),
    ):
        staff_service.update_staff_member(
            stale,
            last,
            email=last.email,
            first_name=last.first_name,
            last_name="",
            role=last.role,
            department_ids=[],
            language=None,
            is_active=False,
        )
    db.session.rollback()
    assert db.session.get(Staff, last.id).is_active


# --- departments ------------------------------------------------------------------------------


def test_departments_crud_is_audited(staff_web, staff_member) -> None:
    created = staff_web.submit(
        "/admin/departments/new", {"name": "Бухгалтерия", "email": "buh@example.com"}
    )
    assert created.status_code == 302
    department = db.session.scalar(select(Department))
    assert (department.name, department.email, department.hidden) == (
        "Бухгалтерия",
        "buh@example.com",
        False,
    )
    duplicate = staff_web.submit("/admin/departments/new", {"name": "бухгалтерия"})
    assert "A department with this name already exists." in errors(duplicate)

    staff_web.submit(
        f"/admin/departments/{department.id}",
        {"name": "Бухгалтерия", "email": "buh@example.com", "hidden": "y"},
    )
    staff_web.submit(
        f"/admin/staff/{staff_member.id}",
        staff_form(staff_member, departments=[str(department.id)]),
    )
    db.session.expire_all()
    assert department.hidden and [d.name for d in staff_member.departments] == ["Бухгалтерия"]
    listed = staff_web.get("/admin/departments").get_data(as_text=True)
    assert "Бухгалтерия" in listed

    staff_web.submit(
        f"/admin/departments/{department.id}/delete", {}, form_page="/admin/departments"
    )
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Department)) == 0
    assert staff_member.departments == []
    [update] = audit_entries("department.update")
    assert update.before == {"hidden": False} and update.after == {"hidden": True}
    [delete] = audit_entries("department.delete")
    assert delete.before["staff"] == [staff_member.email]
    assert len(audit_entries("department.create")) == 1


# --- queries ----------------------------------------------------------------------------------


def _queries(app: Flask, web: WebClient, url: str) -> int:
    count = 0

    def counter(*_args) -> None:
        nonlocal count
        count += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        assert web.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count


def test_staff_list_queries_do_not_grow_with_the_data(app: Flask, staff_web, clock) -> None:
    departments = [staff_service.save_department(None, name=f"Отдел {n}") for n in range(3)]
    make_staff(clock, role="support")
    staff_web.get("/admin/staff")  # notes the staff member online, once
    few = _queries(app, staff_web, "/admin/staff")
    for n in range(20):
        member = make_staff(clock, role=["support", "accountant", "sales_manager"][n % 3])
        member.departments = departments[: n % 3 + 1]
    db.session.commit()
    many = _queries(app, staff_web, "/admin/staff")
    assert many == few
    page = staff_web.get("/admin/staff").get_data(as_text=True)
    assert len(re.findall(r'data-staff="', page)) == 22


# --- bootstrap --------------------------------------------------------------------------------


def test_command_line_and_demo_staff_get_a_role(app: Flask) -> None:
    runner = app.test_cli_runner()
    answers = "a long password\na long password\n"
    first = runner.invoke(
        args=["staff", "create", "--email", "boss@example.com", "--first-name", "Босс"],
        input=answers,
    )
    assert first.exit_code == 0, first.output
    helper = runner.invoke(
        args=[
            "staff",
            "create",
            "--email",
            "help@example.com",
            "--first-name",
            "Х",
            "--role",
            "support",
        ],
        input=answers,
    )
    assert helper.exit_code == 0, helper.output
    runner.invoke(args=["demo"])
    roles = {
        email: db.session.scalar(select(Staff).where(Staff.email == email)).role.key
        for email in ("boss@example.com", "help@example.com", "admin@example.com")
    }
    assert roles == {
        "boss@example.com": "administrator",
        "help@example.com": "support",
        "admin@example.com": "administrator",
    }
