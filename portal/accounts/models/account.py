"""What staff and clients share as sign-in identities: e-mail, argon2 password, session token."""

from __future__ import annotations

import contextlib
import secrets
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.accounts import legacy_passwords
from portal.core.model_base import UTCDateTime

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so both answers take the same time.
    Made on first use: an argon2 hash costs a quarter of a second that every process start (each
    ``portal`` command) would pay at import."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The argon2 hash kept instead of the password."""
    return _hasher.hash(password)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


def normalise_email(email: str) -> str:
    """E-mail is the login: compare and store it trimmed and lower-case."""
    return email.strip().lower()


class AccountMixin:
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Part of the session identity; rotating it signs the account out everywhere.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    language: Mapped[str | None] = mapped_column(String(8))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def set_password(self, password: str) -> None:
        self.set_password_hash(hash_password(password))

    def set_password_hash(self, password_hash: str) -> None:
        """A new password ends every session (docs/security.md, "Sessions")."""
        self.password_hash = password_hash
        self.session_token = new_session_token()

    def rotate_sessions(self) -> None:
        """Sign the account out of every session."""
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        """Whether ``password`` is right; a right one kept in an old form (a WHMCS hash, argon2
        with weaker parameters) is hashed again with the current argon2 on the way. The session
        token stays: it is the same password, and the caller commits with its own work."""
        if legacy_passwords.is_legacy(self.password_hash):
            if not legacy_passwords.verify(self.password_hash, password):
                return False
            self.password_hash = hash_password(password)
            return True
        try:
            _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if _hasher.check_needs_rehash(self.password_hash):
            self.password_hash = hash_password(password)
        return True

    @property
    def session_identity(self) -> str:
        return f"{self.id}:{self.session_token}"  # type: ignore[attr-defined]

    # Flask-Login protocol
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_identity


class TwoFactorMixin:
    """TOTP two-factor sign-in (portal.accounts.two_factor), the same for staff and clients.

    ``totp_secret`` holds the secret encrypted with the app's key (portal.core.encryption), so a
    database dump alone does not reveal it; it is set while enrolling, and two-factor is on once
    ``totp_enabled_at`` is.
    """

    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The last accepted TOTP time step: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None


def burn_password_check(password: str) -> None:
    """Spend the same effort as a real check when the e-mail is unknown (no user enumeration)."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_dummy_hash(), password)
