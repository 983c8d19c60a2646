"""Inactive clients: a running 1C service (a licence, a tariff, a base) nobody has used for its
product's number of days (product field "Inactive after days without use", default 30) — or
never, counted from the day it was registered.

A manager calls the client and records an outcome (the same list as for renewals; a refusal
needs a comment). The service leaves the list of those *without an outcome* once an outcome is
recorded after its last use; the goal — no inactive client without an outcome — is the
dashboard counter. Recording an outcome here changes nothing else: ending the service is the
renewal queue's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.plugin_api import (
    Client,
    Product,
    Service,
    ServiceStatus,
    Staff,
    now,
    product_values,
    session,
    today,
)
from portal_onec.outcomes import Outcome
from portal_onec.renewal_models import OutcomeRecord, ServiceUse
from portal_onec.renewals import RenewalError

PLUGIN = "onec"
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class InactiveService:
    service: Service
    last_used_at: datetime | None
    idle_days: int
    #: The latest outcome recorded since the service was last used, if any.
    outcome: OutcomeRecord | None


def inactivity_days(product: Product) -> int:
    value = product_values(product, PLUGIN).get("inactivity_days", DEFAULT_DAYS)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return DEFAULT_DAYS


def _since(service: Service, last_used_at: datetime | None) -> datetime:
    """The moment inactivity is counted from: the last use, or the registration."""
    if last_used_at is not None:
        return last_used_at if last_used_at.tzinfo else last_used_at.replace(tzinfo=UTC)
    return datetime.combine(service.registration_date, time(), tzinfo=UTC)


def inactive_services(
    as_of: date | None = None, *, client_id: int | None = None
) -> list[InactiveService]:
    """Every inactive service on ``as_of`` (default today), the longest idle first."""
    as_of = as_of or today()
    query = (
        select(Service, ServiceUse.last_used_at)
        .join(Product, Product.id == Service.product_id)
        .outerjoin(ServiceUse, ServiceUse.service_id == Service.id)
        .where(Product.module == PLUGIN, Service.status == ServiceStatus.ACTIVE)
        .options(joinedload(Service.product), joinedload(Service.client).joinedload(Client.manager))
    )
    if client_id is not None:
        query = query.where(Service.client_id == client_id)
    days: dict[int, int] = {}
    idle: list[tuple[Service, datetime | None, int]] = []
    for service, last_used_at in session().execute(query):
        if service.product_id not in days:
            days[service.product_id] = inactivity_days(service.product)
        since = _since(service, last_used_at)
        idle_days = (as_of - since.date()).days
        if idle_days >= days[service.product_id]:
            idle.append((service, last_used_at, idle_days))
    outcomes = _latest_outcomes([s.id for s, _u, _d in idle])
    found = []
    for service, last_used_at, idle_days in idle:
        record = outcomes.get(service.id)
        if record is not None and _aware(record.recorded_at) < _since(service, last_used_at):
            record = None  # an outcome about an earlier stretch of inactivity
        found.append(InactiveService(service, last_used_at, idle_days, record))
    return sorted(found, key=lambda i: (-i.idle_days, i.service.id))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _latest_outcomes(service_ids: list[int]) -> dict[int, OutcomeRecord]:
    if not service_ids:
        return {}
    latest = (
        select(func.max(OutcomeRecord.id))
        .where(OutcomeRecord.service_id.in_(service_ids))
        .group_by(OutcomeRecord.service_id)
    )
    records = session().scalars(select(OutcomeRecord).where(OutcomeRecord.id.in_(latest)))
    return {record.service_id: record for record in records}


def without_outcome_count() -> int:
    """The dashboard counter: inactive services nobody has recorded an outcome for."""
    return sum(1 for item in inactive_services() if item.outcome is None)


def record_inactive_outcome(
    service: Service,
    outcome: Outcome | str,
    *,
    comment: str = "",
    next_contact: date | None = None,
    staff: Staff | None = None,
) -> OutcomeRecord:
    """Record what the call about an inactive service came to (client history). Raises
    :class:`RenewalError` (a refusal without a comment, a past date). Commits."""
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise RenewalError(_("Choose an outcome from the list.")) from None
    comment = (comment or "").strip()
    if outcome.is_refusal and not comment:
        raise RenewalError(_("A refusal needs a comment: write why the client does not renew."))
    if next_contact is not None and next_contact < today():
        raise RenewalError(_("The next contact date cannot be in the past."))
    record = OutcomeRecord(
        client_id=service.client_id,
        service_id=service.id,
        renewal_id=None,
        outcome=outcome.value,
        comment=comment,
        next_contact=next_contact,
        staff_id=staff.id if staff is not None else None,
        recorded_at=now(),
    )
    session().add(record)
    session().commit()
    return record
