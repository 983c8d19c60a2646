"""portal-diskspace: disk quota sold in packages of 5 GB, as a portal plugin.

A product whose Module is ``diskspace`` sells its first quantity option as packages; the quota
is the packages times the package size (plus what the product includes). Its provisioning
commands go to a backend — a ticket to the support department, or a command such as
``setquota`` — the space used is measured daily, the peak above the quota is billed on the next
renewal invoice, and after the grace days over the quota writing is blocked.

Everything here reaches the portal through hooks and ``portal.plugin_api`` only (an
import-linter contract in the portal's setup.cfg holds it to that).
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from portal.plugin_api import (
    JobDefinition,
    PluginSettings,
    ProductFields,
    Provisioner,
    Report,
    UsageCollector,
    hookimpl,
)

__version__ = "0.1.0"

#: Daily, before the billing run of the day (the core's runs at 03:00 by default), so that a
#: renewal invoice sees the last day of the period that ends.
USAGE_SCHEDULE = "30 2 * * *"


def measure_usage(as_of: date) -> dict[str, int]:
    """The ``diskspace.usage`` job: measure every disk-space account for ``as_of``."""
    from portal_diskspace.usage import collect_daily

    return collect_daily(as_of)


@hookimpl
def register_provisioners() -> list[Provisioner]:
    from portal_diskspace.provisioner import DiskSpace

    return [DiskSpace()]


@hookimpl
def register_usage_collectors() -> list[UsageCollector]:
    from portal_diskspace.usage import OverQuota

    return [OverQuota()]


@hookimpl
def register_scheduled_jobs() -> list[JobDefinition]:
    return [
        JobDefinition(
            "diskspace.usage", _l("Disk space: measure usage"), USAGE_SCHEDULE, measure_usage
        )
    ]


@hookimpl
def register_settings() -> list[PluginSettings]:
    from portal_diskspace.settings import SETTINGS

    return [SETTINGS]


@hookimpl
def register_product_fields() -> list[ProductFields]:
    from portal_diskspace.settings import PRODUCT_FIELDS

    return [PRODUCT_FIELDS]


@hookimpl
def register_reports() -> list[Report]:
    from portal_diskspace.report import DiskUsageReport

    return [DiskUsageReport()]
