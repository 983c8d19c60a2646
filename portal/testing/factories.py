"""Small factories for tests: accounts with known passwords.

Staff get the administrator role unless a built-in role key (``"support"``), a ``Role`` or
``None`` (no role, no permissions) is given.
"""

from __future__ import annotations

import itertools

from portal.accounts.models import Client, Department, Role, Staff
from portal.accounts.sign_in import create_staff, register_client
from portal.accounts.staff import give_builtin_role
from portal.core.clock import Clock
from portal.core.extensions import db

PASSWORD = "correct horse battery"  # noqa: S105 (test accounts only)
_numbers = itertools.count(1)


def make_staff(clock: Clock, role: str | Role | None = "administrator", **fields: str) -> Staff:
    n = next(_numbers)
    values = {"email": f"staff{n}@example.com", "first_name": f"Staff{n}", "password": PASSWORD}
    values.update(fields)
    staff = create_staff(clock=clock, **values)
    if isinstance(role, Role):
        staff.role = role
        db.session.commit()
    elif role is not None:
        give_builtin_role(staff, role)
    return staff


REGISTRATION_FIELDS = frozenset({"email", "password", "first_name", "last_name", "company"})


def make_client(clock: Clock, **fields: str) -> Client:
    """A client as if self-registered; other fields (``phone=...``) are set afterwards."""
    n = next(_numbers)
    values = {"email": f"client{n}@example.com", "first_name": f"Client{n}", "password": PASSWORD}
    values.update(fields)
    client = register_client(
        clock=clock, **{k: v for k, v in values.items() if k in REGISTRATION_FIELDS}
    )
    for key, value in values.items():
        if key not in REGISTRATION_FIELDS:
            setattr(client, key, value)
    db.session.commit()
    return client


def make_department(name: str, email: str = "") -> Department:
    """A support department, as staff add one under Settings (tickets are opened in one)."""
    department = Department(name=name, email=email or f"dept{next(_numbers)}@example.com")
    db.session.add(department)
    db.session.commit()
    return department
