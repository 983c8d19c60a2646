"""Departments: groups of staff (sales, accounts, technical support).

Tickets will be addressed to a department (its e-mail address receives piped mail); a hidden
department is internal and not offered to clients. Staff belong to any number of departments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.model_base import Base

if TYPE_CHECKING:
    from portal.accounts.models.staff import Staff

staff_department = Table(
    "staff_department",
    Base.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
)


class Department(Base):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    #: Hidden departments are internal: clients cannot choose them.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)

    staff: Mapped[list[Staff]] = relationship(
        secondary=staff_department, back_populates="departments"
    )

    def __repr__(self) -> str:
        return f"<Department {self.id} {self.name}>"
