"""Staff permissions and roles.

A permission is a fixed name (``clients.view``) that admin views require and templates test; a
role is an editable row that bundles permissions, and every staff member has one role. Built-in
roles carry a ``key`` so the code can find them after staff rename them; the administrator role
always holds every permission, including ones added by later versions.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.model_base import Base

if TYPE_CHECKING:
    from portal.accounts.models.staff import Staff


class Permission(enum.StrEnum):
    CLIENTS_VIEW = "clients.view"
    CLIENTS_EDIT = "clients.edit"
    CLIENTS_DELETE = "clients.delete"
    CLIENTS_MERGE = "clients.merge"
    CLIENTS_LOGIN_AS = "clients.login_as"
    ORDERS_MANAGE = "orders.manage"
    BILLING_VIEW = "billing.view"
    BILLING_MANAGE = "billing.manage"
    SUPPORT_VIEW = "support.view"
    SUPPORT_REPLY = "support.reply"
    REPORTS_VIEW = "reports.view"
    STAFF_MANAGE = "staff.manage"
    SETTINGS_MANAGE = "settings.manage"
    PLUGINS_MANAGE = "plugins.manage"
    AUDIT_VIEW = "audit.view"

    @property
    def label(self) -> str:
        return PERMISSION_LABELS[self]

    @classmethod
    def in_order(cls, permissions: Iterable[Permission]) -> list[Permission]:
        """``permissions`` in declaration order (by area), as people read them."""
        wanted = set(permissions)
        return [member for member in cls if member in wanted]

    @classmethod
    def parse(cls, values: Iterable[str]) -> frozenset[Permission]:
        """Known permissions among stored names; unknown ones (a removed plugin's) are ignored."""
        known = {member.value for member in cls}
        return frozenset(cls(value) for value in values if value in known)


PERMISSION_LABELS: dict[Permission, Any] = {
    Permission.CLIENTS_VIEW: _l("View clients"),
    Permission.CLIENTS_EDIT: _l("Edit clients"),
    Permission.CLIENTS_DELETE: _l("Delete clients"),
    Permission.CLIENTS_MERGE: _l("Merge clients"),
    Permission.CLIENTS_LOGIN_AS: _l("Sign in as a client"),
    Permission.ORDERS_MANAGE: _l("Manage orders"),
    Permission.BILLING_VIEW: _l("View invoices and payments"),
    Permission.BILLING_MANAGE: _l("Manage invoices and payments"),
    Permission.SUPPORT_VIEW: _l("View tickets"),
    Permission.SUPPORT_REPLY: _l("Reply to tickets"),
    Permission.REPORTS_VIEW: _l("View reports"),
    Permission.STAFF_MANAGE: _l("Manage staff, roles and departments"),
    Permission.SETTINGS_MANAGE: _l("Change settings"),
    Permission.PLUGINS_MANAGE: _l("Manage plugins"),
    Permission.AUDIT_VIEW: _l("View the audit log"),
}


class BuiltinRole(enum.StrEnum):
    """Keys of the roles every installation has (seeded by migration 0002, ensured by
    ``portal.accounts.staff.ensure_builtin_roles``)."""

    ADMINISTRATOR = "administrator"
    ACCOUNTANT = "accountant"
    SUPPORT = "support"
    SALES_MANAGER = "sales_manager"


#: name, description (English, as stored) and permissions of each built-in role.
BUILTIN_ROLES: dict[BuiltinRole, tuple[str, str, frozenset[Permission]]] = {
    BuiltinRole.ADMINISTRATOR: (
        "Administrator",
        "Everything, including staff, settings and plugins.",
        frozenset(Permission),
    ),
    BuiltinRole.ACCOUNTANT: (
        "Accountant",
        "Administers billing only: invoices, payments, closing documents.",
        frozenset({Permission.CLIENTS_VIEW, Permission.BILLING_VIEW, Permission.BILLING_MANAGE}),
    ),
    BuiltinRole.SUPPORT: (
        "Support",
        "Answers tickets and looks clients up.",
        frozenset({Permission.CLIENTS_VIEW, Permission.SUPPORT_VIEW, Permission.SUPPORT_REPLY}),
    ),
    BuiltinRole.SALES_MANAGER: (
        "Sales manager",
        "Works with clients and orders, reads reports.",
        frozenset(
            {
                Permission.CLIENTS_VIEW,
                Permission.CLIENTS_EDIT,
                Permission.ORDERS_MANAGE,
                Permission.REPORTS_VIEW,
            }
        ),
    ),
}

#: Translated name and description, shown while a built-in role keeps the stored English text.
BUILTIN_ROLE_LABELS: dict[BuiltinRole, tuple[Any, Any]] = {
    BuiltinRole.ADMINISTRATOR: (
        _l("Administrator"),
        _l("Everything, including staff, settings and plugins."),
    ),
    BuiltinRole.ACCOUNTANT: (
        _l("Accountant"),
        _l("Administers billing only: invoices, payments, closing documents."),
    ),
    BuiltinRole.SUPPORT: (_l("Support"), _l("Answers tickets and looks clients up.")),
    BuiltinRole.SALES_MANAGER: (
        _l("Sales manager"),
        _l("Works with clients and orders, reads reports."),
    ),
}


class Role(Base):
    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Set for built-in roles only; the code finds them by key, staff may rename them.
    key: Mapped[str | None] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    #: Permission names, as a JSON list of strings.
    permission_names: Mapped[list[str]] = mapped_column("permissions", JSON, default=list)

    staff: Mapped[list[Staff]] = relationship(back_populates="role")

    @property
    def is_administrator(self) -> bool:
        return self.key == BuiltinRole.ADMINISTRATOR

    @property
    def is_builtin(self) -> bool:
        return self.key is not None

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.is_administrator:
            return frozenset(Permission)
        return Permission.parse(self.permission_names or [])

    @property
    def ordered_permissions(self) -> list[Permission]:
        return Permission.in_order(self.permissions)

    @property
    def display_name(self) -> str:
        """The translated name of a built-in role unless staff renamed it."""
        return self._translated(0, self.name)

    @property
    def display_description(self) -> str:
        return self._translated(1, self.description)

    def _translated(self, index: int, stored: str) -> str:
        if self.key in BUILTIN_ROLES:
            key = BuiltinRole(self.key)
            if stored == BUILTIN_ROLES[key][index]:
                return str(BUILTIN_ROLE_LABELS[key][index])
        return stored

    def __repr__(self) -> str:
        return f"<Role {self.id} {self.name}>"
