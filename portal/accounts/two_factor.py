"""TOTP two-factor authentication for staff (RFC 6238: 30-second steps, 6 digits, SHA-1).

Time comes from the app clock, so tests move a ``FrozenClock`` instead of sleeping. A code is
accepted one step either side of now (phone clocks drift), and never twice: the last accepted
step is stored and any code for that step or an earlier one is refused, so a code read over a
shoulder or replayed from a proxy log is useless.

Enrolment keeps the new secret on the staff row but leaves two-factor off until a code from the
authenticator app confirms it; secrets never go into the audit log.
"""

from __future__ import annotations

import hmac
import re

import pyotp
from flask import current_app
from flask_babel import gettext as _

from portal.accounts import audit
from portal.accounts.models import Staff
from portal.accounts.staff import StaffError, check_may_manage
from portal.core.app_state import clock
from portal.core.extensions import db
from portal.platform import runtime_settings

#: Steps accepted either side of the current one.
VALID_WINDOW = 1
REQUIRE_SETTING = "require_two_factor"
_CODE = re.compile(r"\d{6}")


def required() -> bool:
    """Whether an administrator requires two-factor authentication of every staff member."""
    return bool(runtime_settings.get(REQUIRE_SETTING, False))


def set_required(value: bool) -> None:
    runtime_settings.put(REQUIRE_SETTING, bool(value))  # audited and committed there


def start_enrolment(staff: Staff) -> str:
    """The pending secret, created on first call and kept until confirmed or cancelled (so that
    reloading the page does not invalidate what the app has already scanned)."""
    if staff.two_factor_enabled:
        raise StaffError(_("Two-factor authentication is already on."))
    if not staff.totp_secret:
        staff.totp_secret = pyotp.random_base32()
        db.session.commit()
    return staff.totp_secret


def cancel_enrolment(staff: Staff) -> None:
    if not staff.two_factor_enabled and staff.totp_secret:
        staff.totp_secret = None
        db.session.commit()


def provisioning_uri(staff: Staff) -> str:
    """The ``otpauth://`` address an authenticator app reads (typed in or as a QR code)."""
    assert staff.totp_secret
    issuer = current_app.config["PORTAL"]["company_name"]
    return pyotp.TOTP(staff.totp_secret).provisioning_uri(name=staff.email, issuer_name=issuer)


def _accept(staff: Staff, code: str) -> bool:
    """Check ``code`` against the staff member's secret; remember its step if it is accepted."""
    code = re.sub(r"\s", "", code or "")
    if not staff.totp_secret or not _CODE.fullmatch(code):
        return False
    totp = pyotp.TOTP(staff.totp_secret)
    now = totp.timecode(clock().now())
    steps = [now, *(now + sign * n for n in range(1, VALID_WINDOW + 1) for sign in (-1, 1))]
    for step in steps:
        if hmac.compare_digest(totp.generate_otp(step), code):
            if staff.totp_last_step is not None and step <= staff.totp_last_step:
                return False  # already used, or older than one that was
            staff.totp_last_step = step
            return True
    return False


def confirm_enrolment(staff: Staff, code: str) -> bool:
    """Turn two-factor on if ``code`` matches the pending secret."""
    if staff.two_factor_enabled or not _accept(staff, code):
        return False
    staff.totp_enabled_at = clock().now()
    audit.record(
        "staff.two_factor_enable",
        "staff",
        staff.id,
        before={"two_factor": False},
        after={"two_factor": True},
    )
    db.session.commit()
    return True


def verify(staff: Staff, code: str) -> bool:
    """The second step of signing in."""
    if not staff.two_factor_enabled or not _accept(staff, code):
        return False
    db.session.commit()
    return True


def disable(staff: Staff, code: str) -> bool:
    """Turn one's own two-factor off, proving possession of the app with a current code."""
    if not staff.two_factor_enabled or not _accept(staff, code):
        return False
    _clear(staff)
    audit.record(
        "staff.two_factor_disable",
        "staff",
        staff.id,
        before={"two_factor": True},
        after={"two_factor": False},
    )
    db.session.commit()
    return True


def reset(actor: Staff, staff: Staff) -> None:
    """Recovery for a lost phone: someone allowed to manage ``staff`` turns their 2FA off.

    Not for oneself: a stolen session must not be enough to remove the second factor.
    """
    if actor.id == staff.id:
        raise StaffError(
            _("Turn off your own two-factor authentication on your profile page, with a code.")
        )
    check_may_manage(actor, staff)
    was_on = staff.two_factor_enabled
    _clear(staff)
    audit.record(
        "staff.two_factor_reset",
        "staff",
        staff.id,
        before={"two_factor": was_on},
        after={"two_factor": False},
    )
    db.session.commit()


def _clear(staff: Staff) -> None:
    staff.totp_secret = None
    staff.totp_enabled_at = None
