"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from portal.models.audit import ActorType, AuditEntry
from portal.models.base import Base
from portal.models.catalog import Product, ProductGroup, ProductType, Visibility
from portal.models.client import Client, ClientGroup, ClientStatus, Rating
from portal.models.contact import Contact, ContactRole, MailKind
from portal.models.custom_field import CustomField, CustomFieldValue, FieldType
from portal.models.department import Department
from portal.models.note import Note
from portal.models.permissions import BuiltinRole, Permission, Role
from portal.models.setting import Setting
from portal.models.staff import Staff
from portal.models.todo import TodoItem

__all__ = [
    "ActorType",
    "AuditEntry",
    "Base",
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
    "MailKind",
    "Note",
    "Permission",
    "Product",
    "ProductGroup",
    "ProductType",
    "Rating",
    "Role",
    "Setting",
    "Staff",
    "TodoItem",
    "Visibility",
]
