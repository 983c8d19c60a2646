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

__all__ = [
    "Addon",
    "AddonPrice",
    "ConfigOption",
    "ConfigOptionChoice",
    "ConfigOptionPrice",
    "OptionKind",
    "Product",
    "ProductGroup",
    "ProductPrice",
    "ProductType",
    "UpgradePath",
    "Visibility",
]
