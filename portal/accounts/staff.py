"""Staff, roles and departments, with the rule that nobody grants rights they do not hold.

The rules, checked here rather than in the views so that every caller obeys them:

* a role can be created or changed only by someone holding every permission the role has (or
  will have) — otherwise a support agent with ``staff.manage`` could mint an administrator;
* a role can be given only by someone holding all of its permissions;
* a staff member can be changed only by someone holding all of *their* permissions, and an
  administrator only by an administrator;
* the last active administrator can be neither blocked nor given another role, so the
  installation never locks itself out;
* nobody blocks themselves.

Every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from portal.accounts import audit
from portal.accounts.models import BuiltinRole, Department, Permission, Role, Staff
from portal.accounts.models.account import normalise_email
from portal.accounts.models.permissions import BUILTIN_ROLES
from portal.accounts.sessions import end_sessions
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.core.transactions import unit_of_work


class StaffError(ValueError):
    """A refusal the user can understand; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


#: How often a staff member's "last seen" is written while they click around the admin area.
SEEN_EVERY = timedelta(minutes=1)


def note_online(staff: Staff) -> None:
    """Record that ``staff`` is using the admin area now, at most once a minute (the dashboard's
    "who is online" list). Commits when it writes."""
    now = clock().now()
    if staff.last_seen_at is None or now - staff.last_seen_at > SEEN_EVERY:
        with unit_of_work():
            staff.last_seen_at = now


# --- roles ------------------------------------------------------------------------------------


def ensure_builtin_roles() -> dict[BuiltinRole, Role]:
    """Create the built-in roles that are missing (the migration seeds them; tests and ``portal
    demo`` start from emptied tables). Existing roles are left as staff edited them."""
    existing = {
        role.key: role for role in db.session.scalars(select(Role).where(Role.key.is_not(None)))
    }
    roles: dict[BuiltinRole, Role] = {}
    created = False
    for key, (name, description, permissions) in BUILTIN_ROLES.items():
        role = existing.get(key)
        if role is None:
            role = Role(
                key=key,
                name=name,
                description=description,
                permission_names=sorted(permissions),
            )
            db.session.add(role)
            created = True
        roles[key] = role
    if created:
        db.session.commit()
    return roles


def builtin_role(key: BuiltinRole | str) -> Role:
    return ensure_builtin_roles()[BuiltinRole(key)]


def roles() -> list[Role]:
    return list(db.session.scalars(select(Role).order_by(Role.id)))


def role_staff_counts() -> dict[int, int]:
    rows = db.session.execute(
        select(Staff.role_id, func.count())
        .where(Staff.role_id.is_not(None))
        .group_by(Staff.role_id)
    )
    return {role_id: count for role_id, count in rows}


def _labels(permissions: Iterable[Permission]) -> str:
    return ", ".join(str(p.label) for p in Permission.in_order(permissions))


def check_may_grant(actor: Staff, permissions: Iterable[Permission]) -> None:
    missing = frozenset(permissions) - actor.permissions
    if missing:
        raise StaffError(
            _("You cannot grant permissions you do not hold: %(names)s.", names=_labels(missing))
        )


def _role_snapshot(role: Role) -> dict[str, Any]:
    return {
        "name": role.name,
        "description": role.description,
        "permissions": sorted(role.permissions),
    }


def save_role(
    actor: Staff,
    role: Role | None,
    *,
    name: str,
    description: str,
    permissions: Iterable[Permission | str],
) -> Role:
    """Create (``role`` None) or change a role; refuses to widen anyone's rights."""
    wanted = frozenset(Permission(p) for p in permissions)
    name = name.strip()
    if role is not None and role.is_administrator:
        if not actor.is_administrator:
            raise StaffError(_("Only an administrator can change the administrator role."))
        wanted = frozenset(Permission)  # it always holds everything
    if role is not None:
        missing = role.permissions - actor.permissions
        if missing:
            raise StaffError(
                _(
                    "You cannot change a role that has permissions you do not hold: %(names)s.",
                    names=_labels(missing),
                )
            )
    check_may_grant(actor, wanted)
    clash = select(Role.id).where(func.lower(Role.name) == name.lower())
    if role is not None:
        clash = clash.where(Role.id != role.id)
    if db.session.scalar(clash) is not None:
        raise StaffError(_("A role with this name already exists."), "name")

    before = _role_snapshot(role) if role is not None else None
    if role is None:
        role = Role(name=name, description=description.strip(), permission_names=sorted(wanted))
        db.session.add(role)
        db.session.flush()
        audit.record("role.create", "role", role.id, after=_role_snapshot(role))
    else:
        role.name = name
        role.description = description.strip()
        role.permission_names = sorted(wanted)
        changed_before, changed_after = audit.diff(before or {}, _role_snapshot(role))
        if changed_after:
            audit.record("role.update", "role", role.id, before=changed_before, after=changed_after)
    db.session.commit()
    return role


def delete_role(actor: Staff, role: Role) -> None:
    """Delete a role nobody has; built-in roles stay."""
    if role.is_builtin:
        raise StaffError(_("Built-in roles cannot be deleted."))
    missing = role.permissions - actor.permissions
    if missing:
        raise StaffError(
            _(
                "You cannot change a role that has permissions you do not hold: %(names)s.",
                names=_labels(missing),
            )
        )
    in_use = db.session.scalar(select(func.count()).where(Staff.role_id == role.id))
    if in_use:
        raise StaffError(_("This role is given to %(count)d staff members.", count=in_use))
    audit.record("role.delete", "role", role.id, before=_role_snapshot(role))
    db.session.delete(role)
    db.session.commit()


# --- staff ------------------------------------------------------------------------------------


def staff_query(*, include_blocked: bool = False, search: str = "") -> Select[tuple[Staff]]:
    """Staff for the list, active first; blocked staff only when asked for."""
    stmt = select(Staff).order_by(Staff.is_active.desc(), Staff.first_name, Staff.id)
    if not include_blocked:
        stmt = stmt.where(Staff.is_active.is_(True))
    if search.strip():
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            func.lower(Staff.first_name).like(like)
            | func.lower(Staff.last_name).like(like)
            | Staff.email.like(like)
        )
    return stmt


def _staff_snapshot(staff: Staff) -> dict[str, Any]:
    return {
        "first_name": staff.first_name,
        "last_name": staff.last_name,
        "email": staff.email,
        "role": staff.role.name if staff.role is not None else None,
        "departments": sorted(d.name for d in staff.departments),
        "language": staff.language,
        "is_active": staff.is_active,
    }


def check_may_manage(actor: Staff, staff: Staff) -> None:
    """Refuse changes to someone with rights the actor lacks (an administrator above all)."""
    if staff.id == actor.id:
        return
    if staff.is_administrator and not actor.is_administrator:
        raise StaffError(_("Only an administrator can change an administrator."))
    missing = staff.permissions - actor.permissions
    if missing:
        raise StaffError(
            _(
                "You cannot change a staff member who holds permissions you do not hold: "
                "%(names)s.",
                names=_labels(missing),
            )
        )


def _check_may_assign(actor: Staff, role: Role) -> None:
    if role.is_administrator and not actor.is_administrator:
        raise StaffError(_("Only an administrator can make someone an administrator."), "role")
    try:
        check_may_grant(actor, role.permissions)
    except StaffError as exc:
        exc.field = "role"
        raise


def _protect_last_administrator(staff: Staff, *, stays_admin: bool, stays_active: bool) -> None:
    """Lock the administrators' rows and refuse to remove the last active one.

    Locking every active administrator (in id order) makes two administrators demoting each
    other at the same moment take turns on PostgreSQL; the second then sees it is the last.
    """
    if not (staff.is_administrator and staff.is_active) or (stays_admin and stays_active):
        return
    admin_ids = db.session.scalars(
        select(Staff.id)
        .join(Role, Staff.role_id == Role.id)
        .where(Role.key == BuiltinRole.ADMINISTRATOR, Staff.is_active.is_(True))
        .order_by(Staff.id)
        .with_for_update(of=Staff)
    ).all()
    if not [staff_id for staff_id in admin_ids if staff_id != staff.id]:
        if not stays_active:
            raise StaffError(_("The last active administrator cannot be blocked."), "is_active")
        raise StaffError(
            _("The last active administrator must keep the administrator role."), "role"
        )


def _email_free(email: str, staff: Staff | None) -> bool:
    stmt = select(Staff.id).where(Staff.email == email)
    if staff is not None:
        stmt = stmt.where(Staff.id != staff.id)
    return db.session.scalar(stmt) is None


def _departments(ids: Iterable[int]) -> list[Department]:
    wanted = set(ids)
    if not wanted:
        return []
    return list(db.session.scalars(select(Department).where(Department.id.in_(wanted))))


def create_staff_member(
    actor: Staff,
    *,
    email: str,
    first_name: str,
    last_name: str = "",
    password: str,
    role: Role,
    department_ids: Iterable[int] = (),
    language: str | None = None,
    is_active: bool = True,
) -> Staff:
    email = normalise_email(email)
    if not _email_free(email, None):
        raise StaffError(_("A staff member with this e-mail already exists."), "email")
    _check_may_assign(actor, role)
    staff = Staff(
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        role=role,
        departments=_departments(department_ids),
        language=language or None,
        is_active=is_active,
        created_at=clock().now(),
    )
    staff.set_password(password)
    db.session.add(staff)
    db.session.flush()
    audit.record("staff.create", "staff", staff.id, after=_staff_snapshot(staff))
    db.session.commit()
    return staff


def update_staff_member(
    actor: Staff,
    staff: Staff,
    *,
    email: str,
    first_name: str,
    last_name: str,
    role: Role,
    department_ids: Iterable[int],
    language: str | None,
    is_active: bool,
    new_password: str | None = None,
) -> Staff:
    """Change a staff member; the audit action names what matters most (block, role, update)."""
    check_may_manage(actor, staff)
    email = normalise_email(email)
    if not _email_free(email, staff):
        raise StaffError(_("A staff member with this e-mail already exists."), "email")
    if staff.id == actor.id and not is_active:
        raise StaffError(_("You cannot block yourself."), "is_active")
    if role.id != staff.role_id:
        _check_may_assign(actor, role)
    _protect_last_administrator(staff, stays_admin=role.is_administrator, stays_active=is_active)

    before = _staff_snapshot(staff)
    staff.email = email
    staff.first_name = first_name.strip()
    staff.last_name = last_name.strip()
    staff.role = role
    staff.departments = _departments(department_ids)
    staff.language = language or None
    if staff.is_active and not is_active:
        end_sessions(staff)  # unblocking later must not bring an old session back
    staff.is_active = is_active
    if new_password:
        staff.set_password(new_password)  # also signs them out everywhere
    changed_before, changed_after = audit.diff(before, _staff_snapshot(staff))
    if "is_active" in changed_after:
        action = "staff.unblock" if is_active else "staff.block"
    elif "role" in changed_after:
        action = "staff.role_change"
    else:
        action = "staff.update"
    if changed_after or new_password:
        audit.record(
            action,
            "staff",
            staff.id,
            before=changed_before,
            after=changed_after,
            note="password reset" if new_password else "",
        )
    db.session.commit()
    return staff


def give_builtin_role(staff: Staff, key: BuiltinRole | str) -> Staff:
    """Bootstrap: give a built-in role without an acting staff member (``portal staff create``,
    demo data, test factories). Audited as the system."""
    role = builtin_role(key)
    if staff.role_id != role.id:
        before = staff.role.name if staff.role is not None else None
        staff.role = role
        audit.record(
            "staff.role_change",
            "staff",
            staff.id,
            before={"role": before},
            after={"role": role.name},
        )
        db.session.commit()
    return staff


# --- departments ------------------------------------------------------------------------------


def departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.name)))


def _department_snapshot(department: Department) -> dict[str, Any]:
    return audit.snapshot(department, ("name", "email", "hidden"))


def save_department(
    department: Department | None, *, name: str, email: str = "", hidden: bool = False
) -> Department:
    name = name.strip()
    clash = select(Department.id).where(func.lower(Department.name) == name.lower())
    if department is not None:
        clash = clash.where(Department.id != department.id)
    if db.session.scalar(clash) is not None:
        raise StaffError(_("A department with this name already exists."), "name")
    email = normalise_email(email) if email else ""
    if department is None:
        department = Department(name=name, email=email, hidden=hidden)
        db.session.add(department)
        db.session.flush()
        audit.record(
            "department.create",
            "department",
            department.id,
            after=_department_snapshot(department),
        )
    else:
        before = _department_snapshot(department)
        department.name, department.email, department.hidden = name, email, hidden
        changed_before, changed_after = audit.diff(before, _department_snapshot(department))
        if changed_after:
            audit.record(
                "department.update",
                "department",
                department.id,
                before=changed_before,
                after=changed_after,
            )
    db.session.commit()
    return department


def delete_department(department: Department) -> None:
    before = _department_snapshot(department)
    before["staff"] = sorted(member.email for member in department.staff)
    audit.record("department.delete", "department", department.id, before=before)
    db.session.delete(department)
    db.session.commit()
