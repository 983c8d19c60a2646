"""Models of the catalog area. Importing this package registers them with SQLAlchemy."""

from portal.catalog.models.catalog import (
    Addon,
    AddonPrice,
    ConfigOption,
    ConfigOptionChoice,
    ConfigOptionPrice,
    OptionKind,
    Product,
    ProductGroup,
    ProductPrice,
    ProductType,
    UpgradePath,
    Visibility,
)
from portal.catalog.models.client_rules import (
    ClientDiscount,
    ClientTaxRule,
    DiscountKind,
)

__all__ = [
    "Addon",
    "AddonPrice",
    "ClientDiscount",
    "ClientTaxRule",
    "ConfigOption",
    "ConfigOptionChoice",
    "ConfigOptionPrice",
    "DiscountKind",
    "OptionKind",
    "Product",
    "ProductGroup",
    "ProductPrice",
    "ProductType",
    "UpgradePath",
    "Visibility",
]
