"""What additional charges read of the measured usage: the peak of concurrent sessions and the
number of information bases a service had in a month.

This is the one seam between charges and the usage collector: ``portal onec import-usage``
stores what the 1C cloud reports per base, login and day (``onec_base_usage``), and the bases
belong to a service (``onec_information_base.service_id``). Charges read nothing else of it.

* **Sessions**: a day's concurrent sessions are the logins seen that day on each of the
  service's bases, added up over the bases (a login in two bases holds two sessions; one login
  opening a base three times a day is still one seat — the export's session counts are
  summed over the day, not concurrent); the month's figure is the highest day.
* **Bases**: the most of the service's bases held in the month: those created before its end
  and not deleted, or — when more — the distinct bases the export reports in use.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import distinct, func, select

from portal.billing import Period
from portal.plugin_api import Service, session
from portal_onec.charge_model import Function
from portal_onec.models import BaseState, InformationBase
from portal_onec.renewal_models import BaseUsage


def _in_period(period: Period) -> object:
    return BaseUsage.day.between(period.start, period.last_day)


def _bases_of(service: Service) -> object:
    return select(InformationBase.id).where(InformationBase.service_id == service.id)


def peak_sessions(service: Service, period: Period) -> int | None:
    per_day = (
        select(func.count(BaseUsage.id).label("sessions"))
        .where(BaseUsage.base_id.in_(_bases_of(service)), _in_period(period))
        .group_by(BaseUsage.day)
        .subquery()
    )
    return session().scalar(select(func.max(per_day.c.sessions)))


def bases(service: Service, period: Period) -> int | None:
    held = session().scalar(
        select(func.count(InformationBase.id)).where(
            InformationBase.service_id == service.id,
            InformationBase.state != BaseState.DELETED.value,
            InformationBase.created_at < datetime.combine(period.end, time(), UTC),
        )
    )
    used = session().scalar(
        select(func.count(distinct(BaseUsage.base_id))).where(
            BaseUsage.base_id.in_(_bases_of(service)), _in_period(period)
        )
    )
    found = max(held or 0, used or 0)
    return found or None


def measured(service: Service, function: Function, period: Period) -> int | None:
    """The figure of ``function`` for ``service`` in ``period`` (see the module docstring);
    None when nothing was measured."""
    if function is Function.SESSIONS:
        return peak_sessions(service, period)
    return bases(service, period)
