"""Permission checks for admin views and templates.

``@requires(Permission.CLIENTS_VIEW)`` answers 403 (the translated error page) to a staff member
whose role lacks the permission; ``@requires()`` with no permission marks a view that any
signed-in staff member may open. Every core admin view carries one of the two, and a test walks
the URL map to keep it so. In templates, ``can('clients.edit')`` hides links and buttons the
staff member could not use anyway — a convenience, never the protection itself.

Permissions are the names of ``portal.accounts.models.Permission`` (a ``StrEnum``, so a member
and its name are the same here); the shell asks the signed-in staff member's ``can()``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from portal.web.identity import Area, account_model

F = TypeVar("F", bound=Callable[..., Any])


def current_staff_can(*permissions: str) -> bool:
    """True if the signed-in staff member holds every one of ``permissions``."""
    staff = current_user._get_current_object()
    if not isinstance(staff, account_model(Area.ADMIN)):
        return False
    return all(staff.can(p) for p in permissions)  # type: ignore[attr-defined]


def requires(*permissions: str) -> Callable[[F], F]:
    """Decorate an admin view: 403 unless the staff member holds all ``permissions``."""
    needed = tuple(permissions)

    def decorator(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not current_staff_can(*needed):
                abort(403)
            return view(*args, **kwargs)

        checked.portal_permissions = needed  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorator


def can(permission: str) -> bool:
    """Jinja helper: may the signed-in staff member use what needs ``permission``?"""
    return current_staff_can(permission)
