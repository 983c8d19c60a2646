"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from portal.models.base import Base
from portal.models.catalog import Product, ProductGroup, ProductType, Visibility
from portal.models.client import Client, ClientStatus
from portal.models.setting import Setting
from portal.models.staff import Staff

__all__ = [
    "Base",
    "Client",
    "ClientStatus",
    "Product",
    "ProductGroup",
    "ProductType",
    "Setting",
    "Staff",
    "Visibility",
]
