"""How much space a service holds: the packages of its quantity option times the package size,
plus what the product includes; and the account name the backends act on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.plugin_api import OptionKind, Product, Service, plugin_settings, product_values
from portal_diskspace.settings import DEFAULTS, PLUGIN

#: A GB here is what quota tools mean by it: 1024³ bytes (setquota counts 1 KB blocks).
GB = 1024**3
KB = 1024
#: The quota of a blocked (suspended) account when no suspend command is set: nothing fits.
BLOCKED_KB = 1


def settings() -> dict[str, Any]:
    """The plugin's settings with every key present (defaults for what staff never saved)."""
    return {**DEFAULTS, **plugin_settings(PLUGIN)}


def package_option_id(product: Product) -> int | None:
    """The product's first quantity option: its quantity is the number of packages."""
    quantities = [o for o in product.options if o.kind is OptionKind.QUANTITY]
    quantities.sort(key=lambda option: (option.sort_order, option.id))
    return quantities[0].id if quantities else None


def quota_gb(product: Product, options: Mapping[int, int], config: Mapping[str, Any]) -> int:
    """GB held with ``options`` ({option id: quantity}) of ``product``."""
    option_id = package_option_id(product)
    packages = int(options.get(option_id, 0)) if option_id is not None else 0
    included = int(product_values(product, PLUGIN).get("included_gb") or 0)
    return included + packages * int(config["package_gb"])


def options_of(service: Service) -> dict[int, int]:
    return {held.option_id: held.quantity for held in service.options}


def service_quota_gb(service: Service, config: Mapping[str, Any] | None = None) -> int:
    """The quota ``service`` holds now."""
    return quota_gb(service.product, options_of(service), config or settings())


def account(service: Service) -> str:
    """The system account: the service's username, or ``disk<service id>`` when it has none."""
    return service.username or f"disk{service.id}"
