"""Support configuration staff edit: department mail settings, business hours, SLA policies and
escalation rules. Every change is audited in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts import audit
from portal.accounts.models.department import Department
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.support import sla
from portal.support.models.escalation import EscalationRule
from portal.support.models.sla import BusinessHours, SlaPolicy
from portal.support.models.support import DepartmentSupport
from portal.support.models.ticket import TicketPriority, TicketStatus

DEPARTMENT_FIELDS = ("accept_guests", "send_acknowledgement", "signature")
HOURS_FIELDS = ("name", "timezone", "weekly", "holidays")
POLICY_FIELDS = (
    "name",
    "department_id",
    "client_group_id",
    "first_response_minutes",
    "resolution_minutes",
    "business_hours_id",
    "priority",
)
RULE_FIELDS = (
    "name",
    "active",
    "department_id",
    "statuses",
    "priorities",
    "minutes",
    "set_priority",
    "set_department_id",
    "set_staff_id",
    "notify_assignee",
    "notify_emails",
)


class SupportSettingsError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _save(
    obj: Any, fields: tuple[str, ...], values: Mapping[str, Any], entity: str, key: Any = None
) -> None:
    before = None if sa_inspect(obj).transient else audit.snapshot(obj, fields)
    for name in fields:
        if name in values:
            setattr(obj, name, values[name])
    db.session.add(obj)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise SupportSettingsError(_("This name is already taken."), "name") from None
    after = audit.snapshot(obj, fields)
    entity_id = key if key is not None else obj.id
    audit.record_saved(entity, entity, entity_id, before, after)
    db.session.commit()


# --- departments ------------------------------------------------------------------------------


def department_settings(department: Department) -> DepartmentSupport:
    row = db.session.get(DepartmentSupport, department.id)
    return row or DepartmentSupport(
        department_id=department.id, accept_guests=True, send_acknowledgement=True, signature=""
    )


def save_department_settings(department: Department, values: Mapping[str, Any]) -> None:
    row = department_settings(department)
    _save(row, DEPARTMENT_FIELDS, values, "department_support", key=department.id)


# --- business hours ---------------------------------------------------------------------------


def parse_holidays(text: str) -> list[str]:
    days = []
    for item in text.replace(",", " ").split():
        try:
            days.append(date.fromisoformat(item).isoformat())
        except ValueError:
            raise SupportSettingsError(
                _("“%(value)s” is not a date (YYYY-MM-DD).", value=item), "holidays"
            ) from None
    return sorted(set(days))


def save_business_hours(
    hours: BusinessHours | None, *, name: str, timezone: str, weekly: str, holidays: str
) -> BusinessHours:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SupportSettingsError(_("Unknown time zone."), "timezone") from None
    try:
        parsed = sla.parse_weekly(weekly)
    except sla.SlaError as exc:
        raise SupportSettingsError(str(exc), "weekly") from None
    if not parsed:
        raise SupportSettingsError(_("Enter at least one working interval."), "weekly")
    hours = hours or BusinessHours()
    values = {
        "name": name.strip(),
        "timezone": timezone,
        "weekly": parsed,
        "holidays": parse_holidays(holidays),
    }
    _save(hours, HOURS_FIELDS, values, "business_hours")
    return hours


def business_hours() -> list[BusinessHours]:
    return list(db.session.scalars(select(BusinessHours).order_by(BusinessHours.name)))


# --- SLA policies -----------------------------------------------------------------------------


def save_policy(policy: SlaPolicy | None, values: Mapping[str, Any]) -> SlaPolicy:
    if values["first_response_minutes"] <= 0 or values["resolution_minutes"] <= 0:
        raise SupportSettingsError(_("Targets are positive numbers of minutes."))
    clash = select(SlaPolicy.id).where(
        SlaPolicy.department_id.is_(None)
        if values["department_id"] is None
        else SlaPolicy.department_id == values["department_id"],
        SlaPolicy.client_group_id.is_(None)
        if values["client_group_id"] is None
        else SlaPolicy.client_group_id == values["client_group_id"],
    )
    if policy is not None:
        clash = clash.where(SlaPolicy.id != policy.id)
    if db.session.scalar(clash) is not None:
        raise SupportSettingsError(
            _("There already is a policy for this department and client group.")
        )
    policy = policy or SlaPolicy()
    values = {
        **values,
        "priority": TicketPriority(values["priority"]) if values.get("priority") else None,
    }
    _save(policy, POLICY_FIELDS, values, "sla_policy")
    return policy


def policies() -> list[SlaPolicy]:
    return list(db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.name)))


def delete(obj: BusinessHours | SlaPolicy | EscalationRule, entity: str) -> None:
    audit.record(f"{entity}.delete", entity, obj.id, before={"name": obj.name})
    db.session.delete(obj)
    db.session.commit()


# --- escalation rules -------------------------------------------------------------------------


def save_rule(rule: EscalationRule | None, values: Mapping[str, Any]) -> EscalationRule:
    if values["minutes"] <= 0:
        raise SupportSettingsError(_("Enter the number of minutes."), "minutes")
    statuses = [TicketStatus(s).value for s in values.get("statuses") or []]
    if TicketStatus.CLOSED.value in statuses:
        raise SupportSettingsError(_("Closed tickets are never escalated."), "statuses")
    rule = rule or EscalationRule(created_at=clock().now())
    values = {
        **values,
        "statuses": statuses,
        "priorities": [TicketPriority(p).value for p in values.get("priorities") or []],
        "set_priority": TicketPriority(values["set_priority"])
        if values.get("set_priority")
        else None,
    }
    _save(rule, RULE_FIELDS, values, "escalation_rule")
    return rule


def rules() -> list[EscalationRule]:
    return list(db.session.scalars(select(EscalationRule).order_by(EscalationRule.name)))
