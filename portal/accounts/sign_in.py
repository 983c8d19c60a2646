"""Sign-in, registration and password reset for staff and clients."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Client, Staff
from portal.accounts.models.account import burn_password_check, hash_password, normalise_email
from portal.core.clock import Clock
from portal.core.encryption import SecretUnreadable, decrypt, encrypt
from portal.core.extensions import db
from portal.core.transactions import unit_of_work
from portal.messaging import templates
from portal.messaging.outbox import queue_email
from portal.platform.hooks import events

_RESET_SALT = "client-password-reset"
_REGISTRATION_SALT = "client-registration"
#: How long the link that finishes a registration works.
REGISTRATION_MAX_AGE = 24 * 3600


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
    password: str | None = None,
    password_hash: str | None = None,
    first_name: str,
    last_name: str = "",
    company: str = "",
    language: str | None = None,
    ip: str = "",
    clock: Clock,
    send_welcome: bool = False,
) -> Client:
    """A client account as self-registered (``password``, or its ``password_hash`` from a
    confirmed registration); ``send_welcome`` queues the welcome mail with it."""
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
    if password_hash is None:
        if password is None:
            raise TypeError("register_client needs a password or its password_hash")
        password_hash = hash_password(password)
    client.set_password_hash(password_hash)
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


def _queue_mail(
    name: str, to: str, locale: str, client_id: int | None, **variables: object
) -> None:
    """Queue template ``name`` to ``to`` only (never to contacts: these are sign-in links)."""
    subject, text = templates.render(name, locale, variables)
    queue_email(to=to, subject=subject, text=text, client_id=client_id)


def _client_by_email(email: str) -> Client | None:
    return db.session.scalar(select(Client).where(Client.email == normalise_email(email)))


@unit_of_work()
def request_password_reset(email: str) -> None:
    """Queue a reset link if the client exists; the caller answers the same either way and the
    mail goes out from the outbox, so neither the answer nor its time says whether an account
    exists (docs/security.md, "Account discovery")."""
    client = _client_by_email(email)
    if client is None or not client.is_active:
        return
    link = templates.external_url("client_auth.reset_password", token=password_reset_token(client))
    _queue_mail(
        "password_reset",
        client.email,
        templates.locale_of(client),
        client.id,
        client=client,
        link=link,
    )


def _registration_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_REGISTRATION_SALT)


@unit_of_work()
def request_registration(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str = "",
    company: str = "",
    language: str,
    ip: str = "",
) -> None:
    """Registration without telling anyone whether the e-mail has an account: a new address
    gets a link that creates the account (:func:`confirm_registration`), a taken one a note to
    its owner. The password is hashed either way, so both take the same time."""
    password_hash = hash_password(password)
    owner = _client_by_email(email)
    if owner is not None:
        _queue_mail(
            "registration_attempt",
            owner.email,
            templates.locale_of(owner),
            owner.id,
            client=owner,
            login_link=templates.external_url("client_auth.login"),
            reset_link=templates.external_url("client_auth.forgot_password"),
        )
        return
    token = _registration_serializer().dumps(
        {
            "email": normalise_email(email),
            "hash": encrypt(password_hash),  # the link passes through mail servers
            "first_name": first_name.strip(),
            "last_name": last_name.strip(),
            "company": company.strip(),
            "language": language,
            "ip": ip,
        }
    )
    link = templates.external_url("client_auth.confirm_registration", token=token)
    _queue_mail("registration_confirm", normalise_email(email), language, None, link=link)


def registration_for_token(token: str) -> dict[str, str] | None:
    """The registration a link asks to finish, or None (forged, expired, already done)."""
    try:
        data = _registration_serializer().loads(token, max_age=REGISTRATION_MAX_AGE)
        data["hash"] = decrypt(data["hash"])
    except (BadSignature, SecretUnreadable, KeyError, TypeError):
        return None
    return None if email_taken(Client, data["email"]) else data


def confirm_registration(data: dict[str, str], clock: Clock) -> Client | None:
    """Create the account of a registration whose link was opened; None if the e-mail was
    taken meanwhile (the link was used already)."""
    try:
        return register_client(
            email=data["email"],
            password_hash=data["hash"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            company=data["company"],
            language=data["language"],
            ip=data["ip"],
            clock=clock,
            send_welcome=True,
        )
    except AccountError:
        return None
    except IntegrityError:  # the same link opened twice at once
        db.session.rollback()
        return None


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
    """A new password by mailed link; ends every session (the link proved the mailbox)."""
    client.set_password(password)
    db.session.commit()


@unit_of_work()
def remember_language(accounts: Iterable[Staff | Client], code: str) -> None:
    """Keep ``code`` as the preferred language of the signed-in ``accounts`` (their pages and
    the mail sent to them use it)."""
    for account in accounts:
        account.language = code
