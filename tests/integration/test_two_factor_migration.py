"""Migration 0024: staff TOTP secrets stored in plain text before it are encrypted by it (and
decrypted again by its downgrade); clients get the two-factor columns and everyone recovery
codes. Also: ``portal plugins reencrypt`` carries the secrets over a change of secret key."""

from pathlib import Path

import pyotp
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade

from portal.accounts import two_factor
from portal.accounts.models import Staff
from portal.core import encryption
from portal.core.extensions import db
from portal.testing.databases import fresh_database
from portal.testing.factories import make_staff

BEFORE = "0016_sqlite_autoincrement"
REVISION = "0024_two_factor_for_clients"


def _stored_secret(email: str) -> str:
    with db.engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT totp_secret FROM staff WHERE email = :email"), {"email": email}
        ).scalar_one()


def test_existing_secrets_are_encrypted_and_the_downgrade_decrypts_them(
    make_app, tmp_path: Path
) -> None:
    plain = pyotp.random_base32()
    with fresh_database(tmp_path, "_totp") as url:
        other: Flask = make_app(database_url=url)
        with other.app_context():
            upgrade(revision=BEFORE)
            with db.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO staff (first_name, last_name, is_active, email, "
                        "password_hash, session_token, created_at, totp_secret, totp_enabled_at) "
                        "VALUES ('Анна', '', :t, 'old@example.com', 'x', 'y', "
                        "'2026-01-01 00:00:00+00:00', :secret, '2026-01-02 00:00:00+00:00')"
                    ),
                    {"t": True, "secret": plain},
                )
            upgrade(revision=REVISION)
            stored = _stored_secret("old@example.com")
            assert plain not in stored and encryption.decrypt(stored) == plain
            with db.engine.connect() as connection:
                inspector = sa.inspect(connection)
                client_columns = {c["name"] for c in inspector.get_columns("client")}
                tables = set(inspector.get_table_names())
            assert {"totp_secret", "totp_enabled_at", "totp_last_step"} <= client_columns
            assert "recovery_code" in tables

            downgrade(revision=BEFORE)
            assert _stored_secret("old@example.com") == plain
            with db.engine.connect() as connection:
                inspector = sa.inspect(connection)
                client_columns = {c["name"] for c in inspector.get_columns("client")}
                tables = set(inspector.get_table_names())
            assert "totp_secret" not in client_columns and "recovery_code" not in tables
            db.session.remove()
            db.engine.dispose()


def test_reencrypt_carries_totp_secrets_over_a_new_secret_key(app: Flask, make_app, clock):
    staff = make_staff(clock)
    secret = two_factor.start_enrolment(staff)
    old_token = _stored_secret(staff.email)

    rotated: Flask = make_app(secret_key="a-new-key", secret_key_fallbacks=["tests-only-secret"])
    with rotated.app_context():
        result = rotated.test_cli_runner().invoke(args=["plugins", "reencrypt"])
        assert result.exit_code == 0, result.output
        assert "two-factor secrets: re-encrypted 1, unreadable 0" in result.output
        new_token = _stored_secret(staff.email)
        assert new_token != old_token
        assert two_factor.secret_of(db.session.get(Staff, staff.id)) == secret
        db.session.remove()

    without_fallback: Flask = make_app(secret_key="a-new-key")
    with without_fallback.app_context():
        assert two_factor.secret_of(db.session.get(Staff, staff.id)) == secret
        db.session.remove()
