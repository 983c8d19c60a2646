"""Settings staff change in the admin area, stored in the ``setting`` table.

They take precedence over the file/environment configuration for the keys listed in
``RUNTIME_KEYS``; everything else (database URL, secret key) is deployment configuration.
"""

from __future__ import annotations

from typing import Any

from portal.accounts import audit
from portal.core.extensions import db
from portal.platform.models import Setting

RUNTIME_KEYS = frozenset(
    {
        "theme",
        "plugins_enabled",  # staff's choices, portal.platform.plugins
        "require_two_factor",
        "client_editable_fields",
        "invoice_number_format",
        "credit_note_number_format",
        "invoice_due_days",
        "company",
        "tax_rates",
        "currencies",
        "invoice_days_before_due",
        "renewal_invoices_as_drafts",
        # reminders, late fees, suspension (portal.invoicing.dunning and .overdue)
        "reminder_days_before_due",
        "reminder_on_due",
        "overdue_reminder_days",
        "late_fee",
        "suspend_after_days",
        "suspension_warning_days",
        "terminate_after_days",
        "mail_retry",  # the outbox's retries and give-up time, portal.messaging.mail_settings
    }
)


def get(key: str, default: Any = None) -> Any:
    row = db.session.get(Setting, key)
    return default if row is None else row.value


def put(key: str, value: Any) -> None:
    """Store a runtime setting and commit; a change is written to the audit log."""
    if key not in RUNTIME_KEYS:
        raise KeyError(f"{key} is not a runtime setting")
    row = db.session.get(Setting, key)
    before = None if row is None else row.value
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    if before != value:
        audit.record("setting.update", "setting", key, before={key: before}, after={key: value})
    db.session.commit()
