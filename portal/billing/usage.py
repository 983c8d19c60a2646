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
