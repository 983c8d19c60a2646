"""Ending sessions on the server: the session generation of an account.

A session cookie is signed, not stored: dropping a key from it (signing out) does nothing to a
copy of the cookie taken before. So every session carries the account's *session generation*
(``session_token``, a random value on the account row) and each request compares it with the
row it loads anyway to know who is signed in (``portal.web.identity.identity_for``). Moving the
generation on ends every session of the account at once, on every device: signing out, a new
password, a password reset, blocking a staff member, closing a client, a change of two-factor
authentication. See docs/security.md, "Sessions".
"""

from __future__ import annotations

from flask import session

from portal.accounts.models import Client, Staff
from portal.core.transactions import unit_of_work
from portal.web import identity
from portal.web.identity import Area

#: Session key set while a staff member is signed in to the client area as a client.
IMPERSONATOR_KEY = "impersonated_by"


def end_sessions(account: Staff | Client) -> None:
    """End every session of ``account`` (all devices). Joins the caller's transaction; the
    caller's own session ends too unless it signs in again (``identity.sign_in``)."""
    account.rotate_sessions()


@unit_of_work()
def sign_out(area: Area) -> None:
    """Sign the current request's account of ``area`` out everywhere, not just this browser:
    a copy of this session's cookie must stop working too."""
    account = identity.identity_for(area)
    if account is not None and not _impersonated(area, account):
        end_sessions(account)  # type: ignore[arg-type]
    identity.sign_out(area)


def _impersonated(area: Area, account: object) -> bool:
    """Staff signed in as a client: their signing out must not sign the client out."""
    info = session.get(IMPERSONATOR_KEY)
    return (
        area is Area.CLIENT
        and isinstance(info, dict)
        and info.get("client_id") == getattr(account, "id", None)
    )
