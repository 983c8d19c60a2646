"""Daily usage: measured through the backend's usage command, kept per service and day; the
peak above the quota becomes a charge on the next renewal invoice; after the grace days over the
quota, writing is blocked (a suspend queued for the account) until the usage is back under it.

The service itself stays active in the portal while its excess is blocked: the block is the
module's business, run through the provisioning queue (retries, staff see it) with the reason
``OVER_QUOTA``; buying more packages or deleting files lifts it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.billing import Cycle, Period, UsageCharge
from portal.plugin_api import (
    Product,
    ProvisioningAction,
    Service,
    ServiceStatus,
    UsageCollector,
    client_locale,
    queue_provisioning,
    session,
)
from portal_diskspace import backends, quota
from portal_diskspace.models import DiskUsage
from portal_diskspace.settings import PLUGIN

log = logging.getLogger(__name__)

#: ``payload["reason"]`` of the suspend and unsuspend queued for usage over the quota.
OVER_QUOTA = "diskspace:over_quota"
#: Services whose space is measured.
MEASURED = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)


def collect_daily(as_of: date) -> dict[str, int]:
    """Measure every disk-space service once for ``as_of`` and enforce the grace period; a
    service whose measurement fails is counted and the others go on. Commits per service."""
    config = quota.settings()
    counts = {"measured": 0, "not_measured": 0, "errors": 0, "blocked": 0, "unblocked": 0}
    accounts = (
        select(Service.id)
        .join(Product, Product.id == Service.product_id)
        .where(Product.module == PLUGIN, Service.status.in_(MEASURED))
        .order_by(Service.id)
    )
    service_ids = session().scalars(accounts).all()
    for service_id in service_ids:
        service = session().get(Service, service_id)
        try:
            measured = record_sample(service, as_of, config)
            enforced = enforce_grace(service, as_of, int(config["grace_days"]))
        except Exception:  # one account's broken measurement must not stop the others
            log.exception("disk space: measuring service #%s failed", service_id)
            session().rollback()
            counts["errors"] += 1
            continue
        counts["measured" if measured else "not_measured"] += 1
        if enforced:
            counts[enforced] += 1
        session().commit()
    return counts


def record_sample(service: Service, as_of: date, config: Mapping[str, Any]) -> bool:
    """Store what the account uses on ``as_of`` (once a day: a second run keeps the first
    sample). False when there is no usage command. Joins the transaction."""
    exists = session().scalar(
        select(DiskUsage.id).where(DiskUsage.service_id == service.id, DiskUsage.day == as_of)
    )
    if exists is not None:
        return True
    used = backends.measure(quota.account(service), config)
    if used is None:
        return False
    quota_bytes = quota.service_quota_gb(service, config) * quota.GB
    session().add(
        DiskUsage(service_id=service.id, day=as_of, used_bytes=used, quota_bytes=quota_bytes)
    )
    session().flush()
    return True


def _over(row: Any) -> bool:
    return row.used_bytes > row.quota_bytes


def enforce_grace(service: Service, as_of: date, grace_days: int) -> str | None:
    """Block an account over its quota for more than ``grace_days`` (once per stretch over the
    quota), and unblock it when a blocked stretch has ended. Joins the transaction."""
    recent = (
        select(DiskUsage.day, DiskUsage.used_bytes, DiskUsage.quota_bytes)
        .where(DiskUsage.service_id == service.id, DiskUsage.day <= as_of)
        .order_by(DiskUsage.day.desc())
        .limit(grace_days + 400)
    )
    rows = session().execute(recent).all()
    if not rows or service.status is not ServiceStatus.ACTIVE:
        return None
    latest_over = _over(rows[0])
    position = 0
    while not latest_over and position < len(rows) and not _over(rows[position]):
        position += 1  # back under the quota: look at the stretch over it before
    over = []
    while position < len(rows) and _over(rows[position]):
        over.append(rows[position])
        position += 1
    if not over:
        return None
    start, end = over[-1].day, over[0].day
    if (end - start).days < grace_days:
        return None
    if latest_over:
        action, kind = ProvisioningAction.SUSPEND, "block"
    else:
        action, kind = ProvisioningAction.UNSUSPEND, "unblock"
    queued = queue_provisioning(
        service,
        action,
        payload={"reason": OVER_QUOTA, "by": PLUGIN, "over_since": start.isoformat()},
        dedupe_key=f"{PLUGIN}:{kind}:{service.id}:{start.isoformat()}",
    )
    return f"{kind}ed" if queued else None


def over_quota_charges(service: Service, period: Period) -> list[UsageCharge]:
    """The peak GB above the quota in ``period`` (whole GB, rounded up), at the price per GB
    and month times the months of the service's cycle."""
    highest = (
        select(DiskUsage.day, DiskUsage.used_bytes, DiskUsage.quota_bytes)
        .where(
            DiskUsage.service_id == service.id,
            DiskUsage.day >= period.start,
            DiskUsage.day < period.end,
            DiskUsage.used_bytes > DiskUsage.quota_bytes,
        )
        .order_by((DiskUsage.used_bytes - DiskUsage.quota_bytes).desc(), DiskUsage.day)
        .limit(1)
    )
    peak = session().execute(highest).first()
    if peak is None:
        return []
    config = quota.settings()
    excess_gb = -(-(peak.used_bytes - peak.quota_bytes) // quota.GB)
    months = Cycle.parse(service.cycle).months or 1
    price = Decimal(str(config["over_quota_price"])) * months
    if price <= 0:
        return []
    with client_locale(service.client):
        charge = UsageCharge(
            _("Disk space over the quota"),
            Decimal(excess_gb),
            price,
            unit=_("GB"),
            details=(
                _(
                    "Peak %(excess)s GB above the quota of %(quota)s GB on %(day)s",
                    excess=excess_gb,
                    quota=peak.quota_bytes // quota.GB,
                    day=f"{peak.day:%d.%m.%Y}",
                ),
            ),
        )
    return [charge]


class OverQuota(UsageCollector):
    """Asked by the billing run for each renewal of a usage-based ``diskspace`` product."""

    name = PLUGIN

    def collect(self, service: object, period: object) -> list[UsageCharge]:
        assert isinstance(service, Service) and isinstance(period, Period)
        return over_quota_charges(service, period)
