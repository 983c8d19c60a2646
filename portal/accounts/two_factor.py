"""TOTP two-factor sign-in for staff and clients (RFC 6238: 30-second steps, 6 digits, SHA-1),
with single-use recovery codes (docs/security.md, "Two-factor sign-in and secrets at rest").

Time comes from the app clock, so tests move a ``FrozenClock`` instead of sleeping. A code is
accepted one step either side of now (phone clocks drift), and never twice: the last accepted
step is stored and any code for that step or an earlier one is refused, so a code read over a
shoulder or replayed from a proxy log is useless.

The secret is stored encrypted with the app's key (portal.core.encryption), like plugin
secrets: a database dump alone does not reveal it. Enrolment keeps the new secret on the account
but leaves two-factor off until a code from the authenticator app confirms it; confirming hands
out ten recovery codes, shown once and stored only as keyed digests. Secrets and codes never go
into the audit log.
"""

from __future__ import annotations

import enum
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from typing import Any

import pyotp
import segno
from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import ColumnElement, delete, func, select, update

from portal.accounts import audit, sessions
from portal.accounts.models import Client, RecoveryCode, Staff
from portal.accounts.staff import StaffError, check_may_manage
from portal.core import encryption
from portal.core.app_state import clock
from portal.core.extensions import db, limiter
from portal.platform import runtime_settings

log = logging.getLogger(__name__)

Account = Staff | Client

#: Steps accepted either side of the current one.
VALID_WINDOW = 1
REQUIRE_SETTING = "require_two_factor"
_CODE = re.compile(r"\d{6}")

#: How many recovery codes one set has, and their form: 12 characters from an alphabet without
#: look-alikes (about 60 bits each), shown in groups of four.
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_LENGTH = 12
#: The purpose the recovery codes' digest key is derived for (portal.core.encryption.digests).
RECOVERY_PURPOSE = b"portal: two-factor recovery codes v1"


class TwoFactorError(ValueError):
    """A refusal the user can act on; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Proof(enum.StrEnum):
    """What the second step of signing in was passed with."""

    APP = "app"
    RECOVERY_CODE = "recovery_code"


def required() -> bool:
    """Whether an administrator requires two-factor authentication of every staff member."""
    return bool(runtime_settings.get(REQUIRE_SETTING, False))


def set_required(value: bool) -> None:
    runtime_settings.put(REQUIRE_SETTING, bool(value))  # audited and committed there


def secret_of(account: Account) -> str | None:
    """The account's TOTP secret in plain text (base32), or None if it has none or it was
    encrypted with a key that is no longer configured."""
    if not account.totp_secret:
        return None
    try:
        return encryption.decrypt(account.totp_secret)
    except encryption.SecretUnreadable:
        log.warning("the TOTP secret of %r cannot be decrypted with the current key", account)
        return None


def start_enrolment(account: Account) -> str:
    """The pending secret, created on first call and kept until confirmed or cancelled (so that
    reloading the page does not invalidate what the app has already scanned)."""
    if account.two_factor_enabled:
        raise TwoFactorError(_("Two-factor authentication is already on."))
    secret = secret_of(account)
    if secret is None:
        secret = pyotp.random_base32()
        account.totp_secret = encryption.encrypt(secret)
        db.session.commit()
    return secret


def cancel_enrolment(account: Account) -> None:
    if not account.two_factor_enabled and account.totp_secret:
        account.totp_secret = None
        db.session.commit()


def provisioning_uri(account: Account) -> str:
    """The ``otpauth://`` address an authenticator app reads (typed in or as a QR code)."""
    secret = secret_of(account)
    assert secret
    issuer = current_app.config["PORTAL"]["company_name"]
    return pyotp.TOTP(secret).provisioning_uri(name=account.email, issuer_name=issuer)


def page_values(account: Account) -> dict[str, Any]:
    """What a two-factor page shows, for staff and clients alike: while setting up, the secret,
    its otpauth link and the QR code; once on, how many recovery codes are left."""
    secret = None if account.two_factor_enabled else secret_of(account)
    uri = provisioning_uri(account) if secret else ""
    return {
        "secret": secret or "",
        "uri": uri,
        "qr": qr_code(uri) if secret else "",
        "codes_left": recovery_codes_left(account) if account.two_factor_enabled else 0,
    }


def qr_code(uri: str) -> Markup:
    """``uri`` as a QR code: an inline SVG made here, so the page needs no script, no image
    request and nothing outside the site (the Content-Security-Policy allows none)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", svgclass="totp-qr", title=_("QR code"), omitsize=False
    )
    return Markup(svg)  # noqa: S704 - segno's markup: paths, and a title that segno escapes


def _accept(account: Account, code: str) -> bool:
    """Check ``code`` against the account's secret; remember its step if it is accepted."""
    code = re.sub(r"\s", "", code or "")
    secret = secret_of(account)
    if secret is None or not _CODE.fullmatch(code):
        return False
    totp = pyotp.TOTP(secret)
    now = totp.timecode(clock().now())
    steps = [now, *(now + sign * n for n in range(1, VALID_WINDOW + 1) for sign in (-1, 1))]
    for step in steps:
        if hmac.compare_digest(totp.generate_otp(step), code):
            if account.totp_last_step is not None and step <= account.totp_last_step:
                return False  # already used, or older than one that was
            account.totp_last_step = step
            return True
    return False


# --- recovery codes ---------------------------------------------------------------------------


def _owned_by(account: Account) -> ColumnElement[bool]:
    if isinstance(account, Staff):
        return RecoveryCode.staff_id == account.id
    return RecoveryCode.client_id == account.id


def _normalised(code: str) -> str:
    """A recovery code as stored: lower case, without the dashes and spaces it is shown with."""
    return re.sub(r"[\s-]", "", code or "").lower()


def _new_recovery_codes(account: Account) -> list[str]:
    """Replace the account's recovery codes with a fresh set; the codes, to be shown once."""
    db.session.execute(delete(RecoveryCode).where(_owned_by(account)))
    owner = {"staff_id": account.id} if isinstance(account, Staff) else {"client_id": account.id}
    now = clock().now()
    shown = []
    for _n in range(RECOVERY_CODES):
        code = "".join(secrets.choice(RECOVERY_ALPHABET) for _c in range(RECOVERY_LENGTH))
        digest = encryption.digests(code, RECOVERY_PURPOSE)[0]
        db.session.add(RecoveryCode(**owner, code_hash=digest, created_at=now))
        shown.append("-".join(code[i : i + 4] for i in range(0, RECOVERY_LENGTH, 4)))
    return shown


def _spend_recovery_code(account: Account, code: str) -> bool:
    """Mark the matching unused code used, in one conditional UPDATE: of two requests with the
    same code only one changes the row, so a code works once even when raced."""
    code = _normalised(code)
    if len(code) != RECOVERY_LENGTH:
        return False
    spent = db.session.execute(
        update(RecoveryCode)
        .where(
            _owned_by(account),
            RecoveryCode.code_hash.in_(encryption.digests(code, RECOVERY_PURPOSE)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock().now())
        .execution_options(synchronize_session=False)
    )
    return spent.rowcount == 1  # type: ignore[attr-defined]


def recovery_codes_left(account: Account) -> int:
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            _owned_by(account), RecoveryCode.used_at.is_(None)
        )
    )


def _prove(account: Account, code: str) -> Proof | None:
    """A code from the app or an unused recovery code (which is spent); None if neither."""
    if _accept(account, code):
        return Proof.APP
    if _spend_recovery_code(account, code):
        return Proof.RECOVERY_CODE
    return None


# --- changes --------------------------------------------------------------------------------


def _record(account: Account, action: str, *, before: bool, after: bool | None = None) -> None:
    entity = "staff" if isinstance(account, Staff) else "client"
    audit.record(
        f"{entity}.two_factor_{action}",
        entity,
        account.id,
        before={"two_factor": before},
        after={"two_factor": before if after is None else after},
        client_id=account.id if isinstance(account, Client) else None,
    )


#: Set on ``flask.g`` when a code or password given to change two-factor was wrong.
_REFUSED = "portal_two_factor_refused"


def _refusal(message: str, field: str) -> TwoFactorError:
    if has_request_context():
        setattr(g, _REFUSED, True)  # counted by limit_changes
    return TwoFactorError(message, field)


def _wrong_code() -> TwoFactorError:
    return _refusal(_("Wrong or already used code."), "code")


def _check_password(account: Account, password: str | None) -> None:
    if password is not None and not account.check_password(password):
        raise _refusal(_("The password is wrong."), "password")


def limit_changes(view: Callable[..., Any]) -> Callable[..., Any]:
    """For the views that turn two-factor on or off or make new recovery codes: wrong codes and
    passwords count against the signed-in account's sign-in limit (``login_rate_limit_account``),
    so a session left open is no way to guess them."""
    return limiter.limit(
        lambda: current_app.config["PORTAL"]["login_rate_limit_account"],
        key_func=lambda: (
            f"2fa-change:{type(current_user._get_current_object()).__name__}:{current_user.id}"
        ),
        methods=["POST"],
        deduct_when=lambda _response: bool(g.get(_REFUSED)),
        scope="two-factor-change",
    )(view)


def confirm_enrolment(account: Account, code: str) -> list[str]:
    """Turn two-factor on if ``code`` matches the pending secret; the new recovery codes.
    :class:`TwoFactorError` if the code is wrong."""
    if account.two_factor_enabled:
        raise TwoFactorError(_("Two-factor authentication is already on."))
    if not _accept(account, code):
        raise _wrong_code()
    account.totp_enabled_at = clock().now()
    codes = _new_recovery_codes(account)
    _record(account, "enable", before=False, after=True)
    sessions.end_sessions(account)  # a session opened before must not outlive the change
    db.session.commit()
    return codes


def verify(account: Account, code: str) -> Proof | None:
    """The second step of signing in: a code from the app or a recovery code (used up)."""
    if not account.two_factor_enabled:
        return None
    proof = _prove(account, code)
    if proof is Proof.RECOVERY_CODE:
        _record(account, "recovery_code_used", before=True)
    db.session.commit()
    return proof


def regenerate_recovery_codes(
    account: Account, code: str, *, password: str | None = None
) -> list[str]:
    """A new set of recovery codes (the old ones stop working), for someone who proves the
    second factor again (and the password, where asked); :class:`TwoFactorError` if not."""
    if not account.two_factor_enabled:
        raise TwoFactorError(_("Two-factor authentication is off."))
    _check_password(account, password)
    if _prove(account, code) is None:
        raise _wrong_code()
    codes = _new_recovery_codes(account)
    _record(account, "recovery_codes", before=True)
    db.session.commit()
    return codes


def disable(account: Account, code: str, *, password: str | None = None) -> None:
    """Turn one's own two-factor off, proving possession of the app (or a recovery code) and,
    where asked, the password; :class:`TwoFactorError` if not."""
    if not account.two_factor_enabled:
        raise TwoFactorError(_("Two-factor authentication is off."))
    _check_password(account, password)
    if _prove(account, code) is None:
        raise _wrong_code()
    _clear(account)
    _record(account, "disable", before=True, after=False)
    sessions.end_sessions(account)  # a session opened before must not outlive the change
    db.session.commit()


def reset(actor: Staff, account: Account) -> None:
    """Recovery for a lost phone (and lost recovery codes): a staff member turns someone's 2FA
    off: a client's (the view requires ``clients.edit``), or a colleague's they may manage.

    Not for oneself: a stolen session must not be enough to remove the second factor.
    """
    if isinstance(account, Staff):
        if actor.id == account.id:
            raise StaffError(
                _("Turn off your own two-factor authentication on your profile page, with a code.")
            )
        check_may_manage(actor, account)
    was_on = account.two_factor_enabled
    _clear(account)
    _record(account, "reset", before=was_on, after=False)
    sessions.end_sessions(account)  # a session opened before must not outlive the change
    db.session.commit()


def _clear(account: Account) -> None:
    account.totp_secret = None
    account.totp_enabled_at = None
    db.session.execute(delete(RecoveryCode).where(_owned_by(account)))


def reencrypt_secrets() -> tuple[int, int]:
    """Encrypt every stored TOTP secret with the current key (after a rotation, while the old
    key is a fallback). Returns (re-encrypted, unreadable); commits."""
    done = unreadable = 0
    for model in (Staff, Client):
        for account in db.session.scalars(select(model).where(model.totp_secret.is_not(None))):
            try:
                account.totp_secret = encryption.reencrypt(account.totp_secret)
            except encryption.SecretUnreadable:
                unreadable += 1
            else:
                done += 1
    db.session.commit()
    return done, unreadable
