"""Staff members: the people who work in the admin area.

Each has one role (what they may do) and any number of departments (where work reaches them).
A staff member without a role (created by older code paths) holds no permissions at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models.account import AccountMixin, TwoFactorMixin
from portal.accounts.models.department import Department, staff_department
from portal.accounts.models.permissions import Permission, Role
from portal.core.model_base import Base, TimestampMixin, UTCDateTime


class Staff(AccountMixin, TwoFactorMixin, TimestampMixin, Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    #: Blocked staff cannot sign in (the flag is "is_active" as Flask-Login expects).
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    role_id: Mapped[int | None] = mapped_column(ForeignKey("role.id"), index=True)

    # Joined: the signed-in staff member is loaded on every request and asked for permissions.
    role: Mapped[Role | None] = relationship(back_populates="staff", lazy="joined")
    departments: Mapped[list[Department]] = relationship(
        secondary=staff_department,
        back_populates="staff",
        lazy="selectin",
        order_by="Department.name",
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def permissions(self) -> frozenset[Permission]:
        return self.role.permissions if self.role is not None else frozenset()

    def can(self, permission: Permission | str) -> bool:
        return Permission(permission) in self.permissions

    @property
    def is_administrator(self) -> bool:
        return self.role is not None and self.role.is_administrator

    def __repr__(self) -> str:
        return f"<Staff {self.id} {self.email}>"
