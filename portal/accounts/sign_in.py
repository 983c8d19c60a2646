"""Sign-in, registration and password reset for staff and clients."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from portal.accounts.models import Client, Staff
from portal.accounts.models.account import burn_password_check, normalise_email
from portal.core.clock import Clock
from portal.core.extensions import db
from portal.core.transactions import unit_of_work
from portal.messaging import templates
from portal.messaging.smtp import send_email
from portal.platform.hooks import events

_RESET_SALT = "client-password-reset"


class AccountError(ValueError):
    """A problem a user can fix; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def authenticate(model: type[Staff] | type[Client], email: str, password: str, clock: Clock):
    """The active account with this e-mail and password, or None (same cost either way)."""
    account = db.session.scalar(select(model).where(model.email == normalise_email(email)))
    if account is None:
        burn_password_check(password)
        return None
    if not account.check_password(password) or not account.is_active:
        return None
    account.last_login_at = clock.now()
    db.session.commit()
    return account


def email_taken(model: type[Staff] | type[Client], email: str) -> bool:
    return (
        db.session.scalar(select(model.id).where(model.email == normalise_email(email))) is not None
    )


def register_client(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str = "",
    company: str = "",
    language: str | None = None,
    ip: str = "",
    clock: Clock,
    send_welcome: bool = False,
) -> Client:
    """A client account as self-registered; ``send_welcome`` queues the welcome mail with it."""
    from flask_babel import gettext as _

    if email_taken(Client, email):
        raise AccountError(_("An account with this e-mail already exists."), "email")
    client = Client(
        email=normalise_email(email),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        company=company.strip(),
        language=language,
        registration_ip=ip,
        created_at=clock.now(),
        currency=current_app.config["PORTAL"]["default_currency"],
    )
    client.set_password(password)
    db.session.add(client)
    db.session.flush()
    if send_welcome:
        queue_welcome_email(client)
    events.fire("client_created", client=client)
    db.session.commit()
    return client


def queue_welcome_email(client: Client) -> None:
    """Queue the ``welcome`` mail once per client (where to sign in and to set a password).
    Joins the caller's transaction."""
    templates.send(
        "welcome",
        client,
        dedupe_key=f"welcome:{client.id}",
        login_link=templates.external_url("client_auth.login"),
        reset_link=templates.external_url("client_auth.forgot_password"),
    )


def create_staff(
    *, email: str, password: str, first_name: str, last_name: str = "", clock: Clock
) -> Staff:
    if email_taken(Staff, email):
        raise AccountError(f"A staff member with e-mail {email} already exists.", "email")
    staff = Staff(
        email=normalise_email(email),
        first_name=first_name,
        last_name=last_name,
        created_at=clock.now(),
    )
    staff.set_password(password)
    db.session.add(staff)
    db.session.commit()
    return staff


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT)


def _password_stamp(client: Client) -> str:
    """Changes with the password (argon2 salts every hash), so a used reset link stops working;
    not the session generation, which signing out elsewhere moves on."""
    return hashlib.sha256(client.password_hash.encode()).hexdigest()[:32]


def password_reset_token(client: Client) -> str:
    return _reset_serializer().dumps({"id": client.id, "p": _password_stamp(client)})


def send_password_reset(email: str) -> None:
    """Mail a reset link if the client exists; say nothing either way (no user enumeration)."""
    client = db.session.scalar(select(Client).where(Client.email == normalise_email(email)))
    if client is None or not client.is_active:
        return
    link = url_for("client_auth.reset_password", token=password_reset_token(client), _external=True)
    # Sent now, not queued: the client is waiting for it, and the view reports a failure.
    subject, text = templates.render(
        "password_reset", templates.locale_of(client), {"client": client, "link": link}
    )
    send_email(to=client.email, subject=subject, text=text)


def client_for_reset_token(token: str) -> Client | None:
    max_age = current_app.config["PORTAL"]["password_reset_max_age"]
    try:
        data = _reset_serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    client = db.session.get(Client, data.get("id"))
    if client is None or _password_stamp(client) != data.get("p") or not client.is_active:
        return None
    return client


def reset_password(client: Client, password: str) -> None:
    client.set_password(password)
    db.session.commit()


@unit_of_work()
def remember_language(accounts: Iterable[Staff | Client], code: str) -> None:
    """Keep ``code`` as the preferred language of the signed-in ``accounts`` (their pages and
    the mail sent to them use it)."""
    for account in accounts:
        account.language = code
