"""What a client changes about themselves in the client area.

Staff decide which profile fields clients may edit (runtime setting ``client_editable_fields``).
A new e-mail only takes effect through a link sent to it, since the e-mail is the login and the
address every request is accepted from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.accounts import audit
from portal.accounts.clients import ClientError, email_in_use
from portal.accounts.models import Client
from portal.accounts.models.account import normalise_email
from portal.core.extensions import db
from portal.messaging.smtp import send_email
from portal.platform import runtime_settings

#: What a client may edit unless staff choose otherwise.
DEFAULT_EDITABLE = (
    "first_name",
    "last_name",
    "company",
    "phone",
    "address",
    "city",
    "region",
    "postcode",
)
#: What staff can allow at all (legal details stay with staff: they appear on documents).
EDITABLE_CHOICES = (*DEFAULT_EDITABLE, "country", "bank_name", "bank_bic", "bank_account")
_EMAIL_SALT = "client-email-change"
EMAIL_LINK_MAX_AGE = 2 * 24 * 3600


def editable_fields() -> tuple[str, ...]:
    chosen = runtime_settings.get("client_editable_fields", list(DEFAULT_EDITABLE))
    return tuple(field for field in EDITABLE_CHOICES if field in chosen)


def update_own_profile(client: Client, values: Mapping[str, Any]) -> None:
    allowed = editable_fields()
    before = audit.snapshot(client, allowed)
    for key in allowed:
        if key in values:
            setattr(client, key, (values[key] or "").strip())
    changed_before, changed_after = audit.diff(before, audit.snapshot(client, allowed))
    if changed_after:
        audit.record(
            "client.update",
            "client",
            client.id,
            before=changed_before,
            after=changed_after,
            client_id=client.id,
        )
    db.session.commit()


def change_password(client: Client, current: str, new: str) -> None:
    if not client.check_password(current):
        raise ClientError(_("The current password is wrong."), "current_password")
    client.set_password(new)
    audit.record("client.password", "client", client.id, client_id=client.id)
    db.session.commit()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_EMAIL_SALT)


def request_email_change(client: Client, new_email: str) -> None:
    """Remember the new address and mail a confirmation link to it (not to the old one)."""
    email = normalise_email(new_email)
    if email == client.email:
        raise ClientError(_("This is already your e-mail."), "email")
    if email_in_use(email, client.id):
        raise ClientError(_("Another account already uses this e-mail."), "email")
    client.pending_email = email
    db.session.commit()
    token = _serializer().dumps({"id": client.id, "email": email, "t": client.session_token})
    link = url_for("client.confirm_email", token=token, _external=True)
    with force_locale(client.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        send_email(
            to=email,
            subject=_("Confirm your new e-mail"),
            text=render_template("mail/confirm_email.txt", client=client, link=link),
        )


def confirm_email_change(client: Client, token: str) -> bool:
    """Apply the change if the link is valid, recent, for this client and still pending."""
    try:
        data = _serializer().loads(token, max_age=EMAIL_LINK_MAX_AGE)
    except (SignatureExpired, BadSignature):
        return False
    if data.get("id") != client.id or data.get("email") != client.pending_email:
        return False
    if data.get("t") != client.session_token or email_in_use(data["email"], client.id):
        return False
    before = {"email": client.email}
    client.email, client.pending_email = data["email"], ""
    audit.record(
        "client.email",
        "client",
        client.id,
        before=before,
        after={"email": client.email},
        client_id=client.id,
    )
    db.session.commit()
    return True
