"""Passwords brought over from WHMCS, checked in WHMCS's own ways until their first use.

A password hash cannot be converted: the portal keeps the WHMCS hash as it was, prefixed with
``whmcs$`` (the importer stores it so), checks a sign-in against it, and on the first success
the account's password is hashed again with argon2 (``AccountMixin.check_password``). The forms
WHMCS has used for client passwords:

- bcrypt, ``$2y$...`` (PHP's ``password_hash``, WHMCS 6.3 and later; ``$2a$``/``$2b$`` too);
- ``md5(salt . password):salt``, the salted MD5 of WHMCS 4.2 to 6.2 (a 5-character salt);
- ``hash_hmac('sha256', password, key):key``, what WHMCS 5.3.9+ used where PHP lacked bcrypt;
- a bare MD5 hex digest of the password, from the oldest installations.
"""

from __future__ import annotations

import hashlib
import hmac

import bcrypt

#: The mark in front of a WHMCS hash in ``password_hash``; argon2 hashes start with ``$argon2``.
PREFIX = "whmcs$"

_MD5_HEX_LENGTH = 32
_SHA256_HEX_LENGTH = 64


def stored_form(whmcs_hash: str) -> str:
    """What the importer keeps in ``password_hash`` for a WHMCS hash."""
    return PREFIX + whmcs_hash


def is_legacy(password_hash: str) -> bool:
    return password_hash.startswith(PREFIX)


def verify(stored: str, password: str) -> bool:
    """Whether ``password`` matches a ``whmcs$``-prefixed hash; False for any form not known."""
    if not is_legacy(stored):
        return False
    whmcs_hash = stored[len(PREFIX) :]
    secret = password.encode()
    if whmcs_hash.startswith(("$2y$", "$2a$", "$2b$")):
        return _verify_bcrypt(whmcs_hash, secret)
    digest, colon, salt = whmcs_hash.partition(":")
    digest = digest.lower()
    if not colon:
        return len(digest) == _MD5_HEX_LENGTH and _same(_md5(secret), digest)
    if len(digest) == _MD5_HEX_LENGTH:
        return _same(_md5(salt.encode() + secret), digest)
    if len(digest) == _SHA256_HEX_LENGTH:
        return _same(hmac.new(salt.encode(), secret, hashlib.sha256).hexdigest(), digest)
    return False


def _verify_bcrypt(whmcs_hash: str, secret: bytes) -> bool:
    """PHP writes ``$2y$``, the same algorithm the bcrypt package knows as ``$2b$``."""
    normalised = "$2b$" + whmcs_hash[4:] if whmcs_hash.startswith("$2y$") else whmcs_hash
    try:
        # bcrypt looks at 72 bytes at most, as PHP did; newer bcrypt refuses longer input.
        return bcrypt.checkpw(secret[:72], normalised.encode())
    except ValueError:
        return False


def _md5(data: bytes) -> str:
    """WHMCS's old scheme; only ever checked, never used for a new hash."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _same(computed: str, stored: str) -> bool:
    return hmac.compare_digest(computed.encode(), stored.encode())
