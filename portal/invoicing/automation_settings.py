"""The settings of the admin "Automation" page: renewal invoices, reminders, late fees,
suspension and termination. Read with their defaults; checked as a whole before any is saved,
so a mistake in one field never stores half a configuration."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from portal.invoicing import billing_run, dunning, overdue
from portal.platform import runtime_settings


class AutomationSettingsError(ValueError):
    """A value staff entered that cannot be used; ``field`` is the form field to show it on."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def current() -> dict[str, Any]:
    """Every setting of the page with its effective value, keyed by the form's field names."""
    schedule = dunning.reminder_schedule()
    fee = dunning.late_fee_policy()
    policy = overdue.overdue_policy()
    first, second, third = schedule.overdue_days
    return {
        "invoice_days_before_due": billing_run.days_before_due(),
        "renewal_invoices_as_drafts": billing_run.as_drafts(),
        "reminder_days_before_due": schedule.days_before_due,
        "reminder_on_due": schedule.on_due,
        "first_overdue_days": first,
        "second_overdue_days": second,
        "third_overdue_days": third,
        "late_fee_kind": fee.kind,
        "late_fee_amount": "" if fee.kind == "none" else str(fee.amount),
        "late_fee_after_days": fee.after_days,
        "late_fee_repeat_days": fee.repeat_days,
        "late_fee_cap": "" if fee.cap is None else str(fee.cap),
        "suspend_after_days": policy.suspend_after_days,
        "suspension_warning_days": policy.suspension_warning_days,
        "terminate_after_days": policy.terminate_after_days,
    }


def _amount(raw: object, field: str, *, places: int) -> Decimal | None:
    text = str(raw if raw is not None else "").strip()
    if not text:
        return None
    value = dunning.parse_decimal(text)
    if value is None:
        raise AutomationSettingsError(_("Enter a number, e.g. 500.00."), field)
    if value <= 0:
        raise AutomationSettingsError(_("Enter a number greater than zero."), field)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise AutomationSettingsError(
            _("Use at most %(places)s decimal places.", places=places), field
        )
    return value


def late_fee_from(values: Mapping[str, Any]) -> dunning.LateFeePolicy:
    """The late fee policy the form describes; raises ``AutomationSettingsError``."""
    kind = values.get("late_fee_kind") or "none"
    if kind not in dunning.LATE_FEE_KINDS:
        raise AutomationSettingsError(_("Choose how late fees are charged."), "late_fee_kind")
    after = int(values.get("late_fee_after_days") or 0)
    repeat = int(values.get("late_fee_repeat_days") or 0)
    if kind == "none":
        return dunning.LateFeePolicy(after_days=max(after, 1), repeat_days=repeat)
    places = dunning.PERCENT_PLACES if kind == "percent" else 2
    amount = _amount(values.get("late_fee_amount"), "late_fee_amount", places=places)
    if amount is None:
        raise AutomationSettingsError(
            _("Enter the fee: an amount, or a percent of the unpaid balance."), "late_fee_amount"
        )
    if kind == "percent" and amount > dunning.HUNDRED:
        raise AutomationSettingsError(_("A percent is at most 100."), "late_fee_amount")
    if after < 1:
        raise AutomationSettingsError(
            _("A late fee is charged at least one day after the due date."),
            "late_fee_after_days",
        )
    cap = _amount(values.get("late_fee_cap"), "late_fee_cap", places=2)
    return dunning.LateFeePolicy(kind, amount, after, repeat, cap)


def _check_order(values: Mapping[str, Any]) -> None:
    """Overdue notices come one after another; termination comes after suspension."""
    previous = 0
    for field in ("first_overdue_days", "second_overdue_days", "third_overdue_days"):
        days = int(values.get(field) or 0)
        if days and days <= previous:
            raise AutomationSettingsError(
                _("Each overdue notice must come later than the one before it (0 turns it off)."),
                field,
            )
        previous = days or previous
    suspend, terminate = (
        int(values.get("suspend_after_days") or 0),
        int(values.get("terminate_after_days") or 0),
    )
    if suspend and terminate and terminate <= suspend:
        raise AutomationSettingsError(
            _("Termination must come later than suspension (or be 0: never)."),
            "terminate_after_days",
        )


def save(values: Mapping[str, Any]) -> None:
    """Check every value, then store them (each change audited). Commits."""
    _check_order(values)
    fee = late_fee_from(values)
    stored: dict[str, Any] = {
        "invoice_days_before_due": int(values["invoice_days_before_due"]),
        "renewal_invoices_as_drafts": bool(values.get("renewal_invoices_as_drafts")),
        "reminder_days_before_due": int(values["reminder_days_before_due"]),
        "reminder_on_due": bool(values.get("reminder_on_due")),
        "overdue_reminder_days": [
            int(values.get(field) or 0)
            for field in ("first_overdue_days", "second_overdue_days", "third_overdue_days")
        ],
        "late_fee": fee.to_setting(),
        "suspend_after_days": int(values["suspend_after_days"]),
        "suspension_warning_days": int(values["suspension_warning_days"]),
        "terminate_after_days": int(values["terminate_after_days"]),
    }
    for key, value in stored.items():
        runtime_settings.put(key, value)
