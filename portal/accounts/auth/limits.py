"""The limits on sign-in, the two-factor code, password reset and registration.

Sign-in counts failed attempts only, in three buckets (docs/security.md, "Sign-in limits"):

* per address (``login_rate_limit_address``): one address guessing many accounts;
* per account *and* address (``login_rate_limit_account``): one address guessing one account.
  An attacker throttled here blocks only himself: the owner signs in from anywhere else;
* per account from *unknown browsers* (``login_rate_limit_account_total``): many addresses
  guessing one account (a botnet). Once full, only a browser that has signed in to the account
  before may still try; it carries a signed *device cookie* naming the account (issued on every
  successful sign-in and on a completed password reset). So the right password from another
  address still works on a known device, and an unknown device can get past by resetting the
  password by e-mail, while the guessing stops.

Password reset and registration requests send a mail whatever the address: they count every
request, per address and per e-mail address asked for, so they cannot be used to flood a
mailbox or to probe many addresses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import after_this_request, current_app, request, session
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from portal.accounts.models.account import normalise_email
from portal.web.identity import Area
from portal.web.limits import accepted, client_address, failed, from_setting

DEVICE_COOKIE = "portal_device"
#: How long a browser stays known after its last successful sign-in.
DEVICE_FOR = timedelta(days=180)
#: Accounts remembered per browser (the most recent ones).
DEVICE_ACCOUNTS = 10
_DEVICE_SALT = "sign-in-device"


def _account(area: Area, email: str) -> str:
    """An account as the limits and the device cookie name it: no database lookup before the
    limit is checked, and no e-mail in the cookie."""
    digest = hashlib.sha256(f"{area}:{normalise_email(email)}".encode()).hexdigest()
    return digest[:24]


def _form_account(area: Area) -> str:
    return _account(area, request.form.get("email", ""))


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=_DEVICE_SALT)


def _known_accounts() -> list[str]:
    """The accounts this browser has signed in to (from its device cookie)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        accounts = _devices().loads(raw, max_age=int(DEVICE_FOR.total_seconds()))
    except BadSignature:
        return []
    return [a for a in accounts if isinstance(a, str)] if isinstance(accounts, list) else []


def remember_device(area: Area, email: str) -> None:
    """Mark this browser as one that signed in to the account (set with the response)."""
    account = _account(area, email)
    accounts = [account, *(a for a in _known_accounts() if a != account)][:DEVICE_ACCOUNTS]

    @after_this_request
    def _set(response: Response) -> Response:
        response.set_cookie(
            DEVICE_COOKIE,
            _devices().dumps(accounts),
            max_age=int(DEVICE_FOR.total_seconds()),
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
        return response


def _unknown_device_message() -> str:
    return _(
        "Too many failed sign-ins to this account from browsers it has not been used in. "
        "Sign in from a device you have used before, or reset your password by e-mail."
    )


def sign_in_limits(area: Area) -> Callable[[Any], Any]:
    """The three sign-in limits for the password form of ``area``."""

    def by_account_and_address() -> str:
        return f"{_form_account(area)}|{client_address()}"

    def known_device() -> bool:
        return _form_account(area) in _known_accounts()

    def apply(view):  # type: ignore[no-untyped-def]
        limits = (
            from_setting(
                "login_rate_limit_address",
                key=client_address,
                scope="login-address",
                count=failed,
            ),
            from_setting(
                "login_rate_limit_account",
                key=by_account_and_address,
                scope="login-account",
                count=failed,
            ),
            from_setting(
                "login_rate_limit_account_total",
                key=lambda: _form_account(area),
                scope="login-account-total",
                count=failed,
                exempt_when=known_device,
                error_message=_unknown_device_message,
            ),
        )
        for limit in limits:
            view = limit(view)
        return view

    return apply


def code_limits(pending_key: Callable[[], str]) -> Callable[[Any], Any]:
    """The limits on a second-factor code form: failures per address and per account waiting
    for its code (``pending_key``). Only someone who gave the right password reaches it, so the
    per-account bucket throttles no one else."""

    def apply(view):  # type: ignore[no-untyped-def]
        by_address = from_setting(
            "login_rate_limit_address", key=client_address, scope="code-address", count=failed
        )
        by_account = from_setting(
            "login_rate_limit_account", key=pending_key, scope="code-account", count=failed
        )
        return by_address(by_account(view))

    return apply


def mail_request_limits(view):  # type: ignore[no-untyped-def]
    """Every accepted request that may send a mail (password reset, registration) counts, per
    address and per e-mail address asked for; a form sent back with errors does not."""
    by_address = from_setting(
        "mail_request_rate_limit_address", key=client_address, scope="mail-address", count=accepted
    )
    by_email = from_setting(
        "mail_request_rate_limit_email",
        key=lambda: "email:" + normalise_email(request.form.get("email", "")),
        scope="mail-email",
        count=accepted,
    )
    return by_address(by_email(view))


def pending_session_key(key: str) -> Callable[[], str]:
    """The account waiting in session key ``key`` for its second factor, as a limit key."""

    def pending() -> str:
        data = session.get(key)
        return f"2fa:{key}:{data.get('id') if isinstance(data, dict) else None}"

    return pending
