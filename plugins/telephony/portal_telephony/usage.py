"""What a PBX plan's renewal invoice carries in arrears, besides the plan and its seats.

A plan is a usage-billed product (``ProductType.USAGE``) of Module ``telephony``: the core's
billing run renews it on its due date (plan and seats for the next period, in advance) and asks
the collector named ``telephony`` for the period that has just ended. This collector gathers
every source of that period's lines: the numbers' connection and monthly fees
(:func:`portal_telephony.numbers.period_charges`) and the postpaid calls of the rating side
(:data:`SOURCES` — the rating modules add theirs). Exactly once comes from the billing run's
``billed_period`` row, not from here.
"""

from __future__ import annotations

from collections.abc import Callable

from portal.billing import Period, UsageCharge, UsageCollector
from portal.plugin_api import Service
from portal_telephony import calls, numbers
from portal_telephony.settings import PLUGIN

#: The functions whose lines a renewal carries for the period that ended, in this order.
SOURCES: list[Callable[[Service, Period], list[UsageCharge]]] = [
    numbers.period_charges,
    calls.period_charges,
]


class TelephonyUsage(UsageCollector):
    name = PLUGIN

    def collect(self, service: object, period: object) -> list[UsageCharge]:
        assert isinstance(service, Service) and isinstance(period, Period)
        return [charge for source in SOURCES for charge in source(service, period)]
