"""Secrets at rest (plugin passwords, API tokens, TOTP secrets): Fernet with a key derived from
the app's key.

Why derived rather than a second key to keep: an operator already guards ``secret_key`` (it
signs sessions); a database dump alone then reveals no secret. The Fernet key is
HKDF-SHA256(secret_key, info=``PURPOSE``), so it differs from anything else the secret key is
used for.

Rotation: tokens are decrypted with the current key or any key in the ``SECRET_KEY_FALLBACKS``
Flask setting (``secret_key_fallbacks`` in the portal settings), and always encrypted with the
current key. After changing ``secret_key``, put the old one into ``secret_key_fallbacks``, run
``portal plugins reencrypt`` (plugin and TOTP secrets), then drop the fallback. A secret
encrypted with a key that is no longer configured cannot be read back: staff see it as "not
set" and must enter it again (a TOTP secret: that account signs in with a recovery code).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PURPOSE = b"portal: secrets at rest v1"


class SecretUnreadable(ValueError):
    """A stored secret was encrypted with a key that is no longer configured."""


def fernet_key(secret_key: str | bytes) -> bytes:
    """The Fernet key for ``secret_key`` (deterministic, so every process derives the same)."""
    material = secret_key.encode() if isinstance(secret_key, str) else secret_key
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(material)
    return base64.urlsafe_b64encode(derived)


def _fernet(keys: Iterable[str | bytes]) -> MultiFernet:
    return MultiFernet([Fernet(fernet_key(key)) for key in keys])


def _app_keys() -> list[str | bytes]:
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    return [current_app.config["SECRET_KEY"], *fallbacks]


def encrypt(plain: str) -> str:
    """Encrypt ``plain`` with the current secret key; the token is ASCII text."""
    return _fernet(_app_keys()).encrypt(plain.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The text behind ``token``; :class:`SecretUnreadable` if no configured key opens it."""
    try:
        return _fernet(_app_keys()).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise SecretUnreadable("encrypted with a secret key that is no longer configured") from exc


def reencrypt(token: str) -> str:
    """The same secret encrypted with the current key (after a rotation)."""
    try:
        return _fernet(_app_keys()).rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable("encrypted with a secret key that is no longer configured") from exc


def digests(value: str, purpose: bytes) -> list[str]:
    """Keyed SHA-256 digests (hex) of ``value``: with the current secret key first, then with
    each fallback key, so that a value stored before a rotation is still found.

    For random, high-entropy values that must be recognised but never read back (two-factor
    recovery codes): the key derived for ``purpose`` is a pepper, so a database dump alone is
    not enough to test guesses. Not for passwords, which need a slow hash (argon2).
    """
    keys = [
        HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
            key.encode() if isinstance(key, str) else key
        )
        for key in _app_keys()
    ]
    return [hmac.new(key, value.encode(), hashlib.sha256).hexdigest() for key in keys]
