"""Usage a plugin reports for a period, billed in arrears by the billing run."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class UsageCharge:
    """``quantity`` units of something used, at ``unit_price`` each (e.g. 1 250 minutes at
    1.20 RUB, or 3 GB above the quota at 10.00 RUB). Prices are in the service's currency and
    on the same tax basis as the product's prices."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = ""
    details: tuple[str, ...] = field(default=())


class UsageCollector:
    """Base class of what a plugin returns from ``register_usage_collectors``: the billing run
    asks the collector whose ``name`` is a usage-billed product's Module for the usage of each
    period that has ended, and bills it in arrears on the renewal invoice."""

    name: str = ""

    def collect(self, service: object, period: object) -> list[UsageCharge]:
        """The charges for what ``service`` used in ``period`` (a ``portal.billing.Period``)."""
        return []
