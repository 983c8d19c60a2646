"""Models of the accounts area. Importing this package registers them with SQLAlchemy."""

from portal.accounts.models.audit import ActorType, AuditEntry
from portal.accounts.models.client import Client, ClientGroup, ClientStatus, Rating
from portal.accounts.models.contact import Contact, ContactRole
from portal.accounts.models.custom_field import CustomField, CustomFieldValue, FieldType
from portal.accounts.models.department import Department
from portal.accounts.models.note import Note
from portal.accounts.models.permissions import BuiltinRole, Permission, Role
from portal.accounts.models.recovery_code import RecoveryCode
from portal.accounts.models.staff import Staff
from portal.accounts.models.todo import TodoItem

__all__ = [
    "ActorType",
    "AuditEntry",
    "BuiltinRole",
    "Client",
    "ClientGroup",
    "ClientStatus",
    "Contact",
    "ContactRole",
    "CustomField",
    "CustomFieldValue",
    "Department",
    "FieldType",
    "Note",
    "Permission",
    "Rating",
    "RecoveryCode",
    "Role",
    "Staff",
    "TodoItem",
]
