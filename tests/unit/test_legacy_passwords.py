"""WHMCS password hashes checked as WHMCS checks them (portal.accounts.legacy_passwords)."""

from __future__ import annotations

import hashlib
import hmac

import bcrypt
import pytest

from portal.accounts import legacy_passwords
from portal.accounts.legacy_passwords import stored_form, verify

PASSWORD = "Пароль-42 secret"

#: The example of PHP's own password_verify() documentation, as PHP writes it ($2y$).
PHP_BCRYPT = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_a_fixed_php_bcrypt_hash() -> None:
    assert verify(stored_form(PHP_BCRYPT), "rasmuslerdorf")
    assert not verify(stored_form(PHP_BCRYPT), "rasmuslerdorF")


@pytest.mark.parametrize("prefix", ["$2y$", "$2a$", "$2b$"])
def test_bcrypt_in_each_prefix(prefix: str) -> None:
    made = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    whmcs_hash = prefix + made[4:]
    assert verify(stored_form(whmcs_hash), PASSWORD)
    assert not verify(stored_form(whmcs_hash), PASSWORD + "x")


def test_salted_md5_is_md5_of_salt_then_password() -> None:
    salt = "e93h2"
    whmcs_hash = f"{_md5(salt + PASSWORD)}:{salt}"
    assert verify(stored_form(whmcs_hash), PASSWORD)
    assert not verify(stored_form(f"{_md5(PASSWORD + salt)}:{salt}"), PASSWORD)  # wrong order
    assert not verify(stored_form(whmcs_hash), "wrong")


def test_salt_with_a_colon_and_upper_case_digest() -> None:
    salt = "!B:K!"
    whmcs_hash = f"{_md5(salt + PASSWORD).upper()}:{salt}"
    assert verify(stored_form(whmcs_hash), PASSWORD)


def test_plain_md5() -> None:
    assert verify(stored_form(_md5(PASSWORD)), PASSWORD)
    assert not verify(stored_form(_md5(PASSWORD)), PASSWORD.upper())


def test_hmac_sha256_keyed_with_the_stored_key() -> None:
    key = "k3y-0f-whmcs"
    digest = hmac.new(key.encode(), PASSWORD.encode(), hashlib.sha256).hexdigest()
    assert verify(stored_form(f"{digest}:{key}"), PASSWORD)
    assert not verify(stored_form(f"{digest}:other-key"), PASSWORD)


@pytest.mark.parametrize(
    "stored",
    [
        "",  # no prefix at all
        _md5(PASSWORD),  # a bare hash without the whmcs$ mark is not taken as one
        stored_form(""),
        stored_form("$2y$10$broken"),
        stored_form("abc:def"),
        stored_form("not-a-hash"),
    ],
)
def test_anything_else_is_refused(stored: str) -> None:
    assert not verify(stored, PASSWORD)
    assert not verify(stored, "")


def test_is_legacy_tells_the_mark_from_argon2() -> None:
    assert legacy_passwords.is_legacy(stored_form(PHP_BCRYPT))
    assert not legacy_passwords.is_legacy("$argon2id$v=19$m=65536,t=3,p=4$abc$def")
