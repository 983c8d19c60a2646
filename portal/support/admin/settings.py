"""Support settings in the admin area: departments' mail options, business hours, SLA policies
and escalation rules."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portal.accounts.models.client import ClientGroup
from portal.accounts.models.department import Department
from portal.accounts.models.permissions import Permission
from portal.core.extensions import db
from portal.support import settings, sla
from portal.support.forms import (
    PRIORITY_LABELS,
    BusinessHoursForm,
    DepartmentSupportForm,
    EscalationRuleForm,
    SlaPolicyForm,
)
from portal.support.models.escalation import EscalationRule
from portal.support.models.sla import BusinessHours, SlaPolicy
from portal.support.tickets import TicketError, assignable_staff, clean_cc
from portal.web.identity import Area
from portal.web.permissions import requires

admin_support_settings = Blueprint(
    "admin_support_settings", __name__, url_prefix="/admin/settings/support"
)
admin_support_settings.portal_area = Area.ADMIN  # type: ignore[attr-defined]


def _or_404(model: type[Any], object_id: int) -> Any:
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _refused(form: Any, exc: settings.SupportSettingsError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "danger")


def _department_choices(empty: str) -> list[tuple[int | None, str]]:
    rows = db.session.scalars(select(Department).order_by(Department.name))
    return [(None, empty), *((d.id, d.name) for d in rows)]


def _priority_choices(empty: str) -> list[tuple[str, str]]:
    return [("", empty), *((p.value, str(label)) for p, label in PRIORITY_LABELS.items())]


# --- departments ------------------------------------------------------------------------------


@admin_support_settings.route("/departments")
@requires(Permission.SETTINGS_MANAGE)
def departments() -> str:
    rows = db.session.scalars(select(Department).order_by(Department.name)).all()
    by_department = {d.id: settings.department_settings(d) for d in rows}
    return render_template(
        "admin/support/settings_departments.html", departments=rows, settings=by_department
    )


@admin_support_settings.route("/departments/<int:department_id>", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def department_edit(department_id: int) -> Response | str:
    department: Department = _or_404(Department, department_id)
    current = settings.department_settings(department)
    form = DepartmentSupportForm(obj=current)
    if form.validate_on_submit():
        settings.save_department_settings(
            department,
            {
                "accept_guests": form.accept_guests.data,
                "send_acknowledgement": form.send_acknowledgement.data,
                "signature": (form.signature.data or "").strip(),
            },
        )
        flash(_("Saved."), "success")
        return redirect(url_for("admin_support_settings.departments"))
    return render_template(
        "admin/support/settings_department_edit.html", department=department, form=form
    )


# --- business hours ---------------------------------------------------------------------------


def _hours_form(hours: BusinessHours | None) -> Response | str:
    form = BusinessHoursForm(obj=hours)
    if hours is not None and not form.is_submitted():
        form.weekly.data = sla.format_weekly(hours.weekly)
        form.holidays.data = "\n".join(hours.holidays)
    if form.validate_on_submit():
        try:
            settings.save_business_hours(
                hours,
                name=form.name.data,
                timezone=form.timezone.data.strip(),
                weekly=form.weekly.data,
                holidays=form.holidays.data or "",
            )
        except settings.SupportSettingsError as exc:
            _refused(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin_support_settings.hours_list"))
    return render_template(
        "admin/support/settings_hours.html",
        hours=hours,
        form=form,
        rows=settings.business_hours(),
    )


@admin_support_settings.route("/hours", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def hours_list() -> Response | str:
    return _hours_form(None)


@admin_support_settings.route("/hours/<int:hours_id>", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def hours_edit(hours_id: int) -> Response | str:
    return _hours_form(_or_404(BusinessHours, hours_id))


@admin_support_settings.route("/hours/<int:hours_id>/delete", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def hours_delete(hours_id: int) -> Response:
    settings.delete(_or_404(BusinessHours, hours_id), "business_hours")
    flash(_("Deleted."), "success")
    return redirect(url_for("admin_support_settings.hours_list"))


# --- SLA policies -----------------------------------------------------------------------------


def _policy_form(policy: SlaPolicy | None) -> Response | str:
    form = SlaPolicyForm(obj=policy)
    form.department_id.choices = _department_choices(_("Any department"))
    groups = db.session.scalars(select(ClientGroup).order_by(ClientGroup.name))
    form.client_group_id.choices = [
        (None, _("Any client group")),
        *((g.id, g.name) for g in groups),
    ]
    form.business_hours_id.choices = [
        (None, _("Round the clock")),
        *((h.id, h.name) for h in settings.business_hours()),
    ]
    form.priority.choices = _priority_choices(_("As the client chooses"))
    if policy is not None and not form.is_submitted():
        form.priority.data = policy.priority.value if policy.priority else ""
    if form.validate_on_submit():
        try:
            settings.save_policy(
                policy,
                {
                    "name": form.name.data.strip(),
                    "department_id": form.department_id.data,
                    "client_group_id": form.client_group_id.data,
                    "first_response_minutes": form.first_response_minutes.data,
                    "resolution_minutes": form.resolution_minutes.data,
                    "business_hours_id": form.business_hours_id.data,
                    "priority": form.priority.data or None,
                },
            )
        except settings.SupportSettingsError as exc:
            _refused(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin_support_settings.sla_list"))
    rows = db.session.scalars(
        select(SlaPolicy)
        .options(
            selectinload(SlaPolicy.department),
            selectinload(SlaPolicy.client_group),
            selectinload(SlaPolicy.business_hours),
        )
        .order_by(SlaPolicy.name)
    ).all()
    return render_template("admin/support/settings_sla.html", policy=policy, form=form, rows=rows)


@admin_support_settings.route("/sla", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def sla_list() -> Response | str:
    return _policy_form(None)


@admin_support_settings.route("/sla/<int:policy_id>", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def sla_edit(policy_id: int) -> Response | str:
    return _policy_form(_or_404(SlaPolicy, policy_id))


@admin_support_settings.route("/sla/<int:policy_id>/delete", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def sla_delete(policy_id: int) -> Response:
    settings.delete(_or_404(SlaPolicy, policy_id), "sla_policy")
    flash(_("Deleted."), "success")
    return redirect(url_for("admin_support_settings.sla_list"))


# --- escalation rules -------------------------------------------------------------------------


def _rule_form(rule: EscalationRule | None) -> Response | str:
    form = EscalationRuleForm(obj=rule)
    form.department_id.choices = _department_choices(_("Any department"))
    form.set_department_id.choices = _department_choices(_("Keep"))
    staff = assignable_staff()
    form.set_staff_id.choices = [(None, _("Keep")), *((s.id, s.full_name) for s in staff)]
    form.set_priority.choices = _priority_choices(_("Keep"))
    if rule is not None and not form.is_submitted():
        form.set_priority.data = rule.set_priority.value if rule.set_priority else ""
        form.notify_emails.data = ", ".join(rule.notify_emails or [])
    if form.validate_on_submit():
        try:
            emails = clean_cc(form.notify_emails.data or "")
        except TicketError as exc:
            form.notify_emails.errors = [str(exc)]
        else:
            try:
                settings.save_rule(
                    rule,
                    {
                        "name": form.name.data.strip(),
                        "active": form.active.data,
                        "department_id": form.department_id.data,
                        "statuses": form.statuses.data,
                        "priorities": form.priorities.data,
                        "minutes": form.minutes.data,
                        "set_priority": form.set_priority.data or None,
                        "set_department_id": form.set_department_id.data,
                        "set_staff_id": form.set_staff_id.data,
                        "notify_assignee": form.notify_assignee.data,
                        "notify_emails": emails,
                    },
                )
            except settings.SupportSettingsError as exc:
                _refused(form, exc)
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("admin_support_settings.rule_list"))
    return render_template(
        "admin/support/settings_escalation.html",
        rule=rule,
        form=form,
        rows=settings.rules(),
    )


@admin_support_settings.route("/escalation", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def rule_list() -> Response | str:
    return _rule_form(None)


@admin_support_settings.route("/escalation/<int:rule_id>", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def rule_edit(rule_id: int) -> Response | str:
    return _rule_form(_or_404(EscalationRule, rule_id))


@admin_support_settings.route("/escalation/<int:rule_id>/delete", methods=["POST"])
@requires(Permission.SETTINGS_MANAGE)
def rule_delete(rule_id: int) -> Response:
    settings.delete(_or_404(EscalationRule, rule_id), "escalation_rule")
    flash(_("Deleted."), "success")
    return redirect(url_for("admin_support_settings.rule_list"))
