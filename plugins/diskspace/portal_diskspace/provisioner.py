"""The ``diskspace`` provisioning module: every command becomes a quota for the backend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.billing import Period, UsageCharge
from portal.plugin_api import (
    Department,
    Product,
    ProductType,
    Provisioner,
    ProvisioningContext,
    ProvisioningError,
    Service,
    ServiceStatus,
    session,
)
from portal_diskspace import backends, quota, usage
from portal_diskspace.settings import COMMAND, PLUGIN
from portal_diskspace.usage import OVER_QUOTA


class DiskSpace(Provisioner):
    name = PLUGIN
    label = _l("Disk space")

    def _config(self, context: ProvisioningContext) -> dict[str, Any]:
        return {**quota.settings(), **context.settings}

    def _run(
        self, service: Service, context: ProvisioningContext, old_gb: int, new_gb: int
    ) -> None:
        config = self._config(context)
        reason = str(context.payload.get("reason") or "")
        if reason == OVER_QUOTA:
            reason = _("over the quota for more than %(days)s days", days=config["grace_days"])
        command = backends.QuotaCommand(
            task_id=context.task_id,
            action=context.action,
            service=service,
            account=quota.account(service),
            old_gb=old_gb,
            new_gb=new_gb,
            reason=reason,
        )
        backends.backend_for(config).apply(command)

    def create(self, service: Service, context: ProvisioningContext) -> None:
        self._run(service, context, 0, quota.service_quota_gb(service, self._config(context)))
        if not service.username:  # after the command: nothing is written while it runs
            service.username = quota.account(service)  # kept with the command's success

    def change_package(self, service: Service, context: ProvisioningContext) -> None:
        config = self._config(context)
        old = context.old_product or service.product
        new = context.new_product or service.product
        old_gb = quota.quota_gb(old, context.old_options, config)
        new_gb = quota.quota_gb(new, context.new_options, config)
        self._run(service, context, old_gb, new_gb)

    def suspend(self, service: Service, context: ProvisioningContext) -> None:
        self._run_same(service, context)

    def unsuspend(self, service: Service, context: ProvisioningContext) -> None:
        over_quota = context.payload.get("reason") == OVER_QUOTA
        if over_quota and service.status is ServiceStatus.SUSPENDED:
            return  # staff or the overdue automation blocked it since: theirs to lift
        self._run_same(service, context)

    def terminate(self, service: Service, context: ProvisioningContext) -> None:
        self._run_same(service, context)

    def _run_same(self, service: Service, context: ProvisioningContext) -> None:
        gb = quota.service_quota_gb(service, self._config(context))
        self._run(service, context, gb, gb)

    def usage(self, service: Service, period: Period) -> list[UsageCharge]:
        """The GB above the quota at the peak of ``period``, priced per GB and month."""
        return usage.over_quota_charges(service, period)

    def test_connection(self, settings: Mapping[str, Any]) -> str:
        """Check what the backend needs, and warn about products the billing run would not ask
        for over-quota usage."""
        config = {**quota.settings(), **settings}
        if config.get("backend") == COMMAND:
            programs = backends.programs(config)
            message = _("Found %(programs)s.", programs=", ".join(programs))
        else:
            name = config.get("department") or ""
            if session().scalar(select(Department.id).where(Department.name == name)) is None:
                raise ProvisioningError(
                    _("Choose the support department in the disk-space settings.")
                )
            message = _("Tickets go to %(department)s.", department=name)
        others = select(Product.name).where(
            Product.module == PLUGIN, Product.type != ProductType.USAGE
        )
        not_usage = session().scalars(others).all()
        if not_usage:
            message += " " + _(
                "Usage over the quota is billed only for usage-based products; not: %(names)s.",
                names=", ".join(not_usage),
            )
        return message
