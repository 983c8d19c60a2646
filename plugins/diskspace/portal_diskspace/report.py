"""Reports → Disk usage against quota: per client and service, the quota, the latest and the
peak usage and the days over the quota in a date range, with a chart of peak against quota."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from wtforms import BooleanField, DateField, Form, StringField, ValidationError
from wtforms.validators import Optional

from portal.plugin_api import (
    Chart,
    Client,
    Column,
    Product,
    Report,
    ReportResult,
    Service,
    session,
    today,
)
from portal_diskspace import quota
from portal_diskspace.models import DiskUsage
from portal_diskspace.settings import PLUGIN

#: The chart stays readable: the services with the largest peaks.
CHART_SERVICES = 20


def _month_ago() -> Any:
    return today() - timedelta(days=30)


class UsageFilters(Form):
    since = DateField(_l("From"), default=_month_ago, validators=[Optional()])
    until = DateField(_l("To"), default=today, validators=[Optional()])
    client = StringField(_l("Client"), validators=[Optional()])
    over_only = BooleanField(_l("Only over the quota"))

    def validate_until(self, field: Any) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end must not be before the start."))


def gb(value: int | None) -> Decimal:
    """Bytes as GB with two decimals (for reading, not for billing)."""
    return (Decimal(value or 0) / quota.GB).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class DiskUsageReport(Report):
    name = "diskspace_usage"
    label = _l("Disk usage against quota")
    description = _l("Measured daily by the disk-space module; a GB is 1024³ bytes.")
    filters = UsageFilters
    order = 60

    def run(self, filters: Mapping[str, Any]) -> ReportResult:
        since = filters.get("since") or _month_ago()
        until = filters.get("until") or today()
        excess = DiskUsage.used_bytes - DiskUsage.quota_bytes
        latest_day = (
            select(func.max(DiskUsage.day))
            .where(DiskUsage.service_id == Service.id, DiskUsage.day.between(since, until))
            .correlate(Service)
            .scalar_subquery()
        )
        latest = (
            select(DiskUsage.used_bytes)
            .where(DiskUsage.service_id == Service.id, DiskUsage.day == latest_day)
            .correlate(Service)
            .scalar_subquery()
        )
        query = (
            select(
                Client.id,
                Client.company,
                Client.first_name,
                Client.last_name,
                Service.id,
                Service.username,
                func.max(DiskUsage.quota_bytes),
                latest,
                func.max(DiskUsage.used_bytes),
                func.sum(case((excess > 0, 1), else_=0)),
            )
            .join(Service, Service.id == DiskUsage.service_id)
            .join(Client, Client.id == Service.client_id)
            .join(Product, Product.id == Service.product_id)
            .where(Product.module == PLUGIN, DiskUsage.day.between(since, until))
            .group_by(Client.id, Service.id)
            .order_by(Client.id, Service.id)
        )
        text = (filters.get("client") or "").strip()
        if text:
            like = f"%{text}%"
            query = query.where(
                Client.company.ilike(like) | Client.last_name.ilike(like) | Client.email.ilike(like)
            )
        if filters.get("over_only"):
            query = query.having(func.max(excess) > 0)
        rows = []
        for row in session().execute(query):
            (_client_id, company, first, last, service_id, username, quota_b, latest_b, peak_b,
             days_over) = row  # fmt: skip
            name = company or " ".join(p for p in (first, last) if p)
            rows.append(
                [
                    name,
                    f"#{service_id}",
                    username or "",
                    gb(quota_b),
                    gb(latest_b),
                    gb(peak_b),
                    int(days_over or 0),
                ]
            )
        top = sorted(rows, key=lambda r: r[5], reverse=True)[:CHART_SERVICES]
        chart = (
            Chart(
                "bar",
                [f"{r[0][:14]} {r[1]}" for r in top],
                [(_("Quota, GB"), [r[3] for r in top]), (_("Peak, GB"), [r[5] for r in top])],
                title=_("Peak usage against quota, GB"),
            )
            if top
            else None
        )
        columns = [
            _("Client"),
            _("Service"),
            _("Account"),
            Column(_("Quota, GB"), "number"),
            Column(_("Latest, GB"), "number"),
            Column(_("Peak, GB"), "number"),
            Column(_("Days over the quota"), "number"),
        ]
        return ReportResult(columns, rows, chart)
