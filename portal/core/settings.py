"""Settings: defaults in code, then an optional TOML file, then ``PORTAL_*`` environment variables.

Why three layers: a fresh clone must run with no configuration at all (SQLite in ``instance/``,
a generated secret key kept there), an operator edits one file (see ``config/*.example.toml``),
and containers or CI override single values through the environment. The loader lives in the
package rather than in ``config/`` so that an installed portal finds it; ``config/`` holds the
documented example files.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from portal.core.private_files import make_private_dir, open_private_file

PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: The directory above the package: the checkout when the portal runs from one (``make``'s
#: editable install, the tests); site-packages when it was installed from a wheel.
PROJECT_ROOT = PACKAGE_DIR.parent
#: A wheel carries the checkout's top-level ``migrations/``, ``themes/`` and ``config/`` here
#: (setup.py copies them in at build time); a checkout has no such folder.
PACKAGED_DATA = PACKAGE_DIR / "_data"


def data_dir(name: str) -> Path:
    """``migrations``, ``themes`` or ``config``: the installed wheel's copy inside the package,
    else the checkout's top-level folder, so both find the same files."""
    packaged = PACKAGED_DATA / name
    return packaged if packaged.is_dir() else PROJECT_ROOT / name


def instance_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The instance folder (SQLite file, generated secret key, ``portal.toml``): ``explicit``,
    else ``PORTAL_INSTANCE_PATH``, else ``instance/`` in the checkout, or for an installed wheel
    ``<prefix>/var/portal-instance`` (where Flask puts an installed application's): never a
    folder that depends on the current directory, so cron jobs and the web process agree."""
    chosen = explicit or os.environ.get("PORTAL_INSTANCE_PATH")
    if chosen:
        return Path(chosen).resolve()
    if PACKAGED_DATA.is_dir():
        return Path(sys.prefix) / "var" / "portal-instance"
    return PROJECT_ROOT / "instance"


#: Every setting the core knows, with its default. Keys are the lower-case names used in the
#: TOML file; the environment variable is ``PORTAL_`` + the upper-case key.
DEFAULTS: dict[str, Any] = {
    "database_url": "",  # empty: sqlite file in the instance folder
    "secret_key": "",  # empty: generated once and kept in instance/secret_key
    "secret_key_fallbacks": [],  # earlier secret keys, still accepted while rotating
    "default_locale": "ru",
    "locales": ["ru", "en"],
    "default_timezone": "Europe/Moscow",
    "default_currency": "RUB",
    "plugins": [],  # names of entry points in group portal.plugins that may load
    "theme": "default",
    "theme_paths": [],  # extra theme folders, searched before the built-in themes/
    "session_cookie_secure": True,
    "session_lifetime_hours": 12,
    # Rate limits (docs/security.md, "Sign-in limits"). Failed sign-ins per account and address,
    # per address, and per account from browsers that never signed in to it.
    "login_rate_limit_account": "5 per 5 minutes",
    "login_rate_limit_address": "30 per 5 minutes",
    "login_rate_limit_account_total": "30 per hour",
    # Password reset and registration requests (each sends a mail) per address and per e-mail.
    "mail_request_rate_limit_address": "10 per 15 minutes",
    "mail_request_rate_limit_email": "3 per hour",
    "api_rate_limit": "120 per minute",  # the named limit "api" (portal.web.limits)
    "redis_url": "",  # e.g. redis://127.0.0.1:6379/0: rate limits shared by every process
    "ratelimit_storage_uri": "",  # empty: redis_url, else memory:// (one process only)
    "ratelimit_key_prefix": "portal",  # several portals on one Redis need different ones
    "proxy_hops": 0,  # reverse proxies in front that set X-Forwarded-For/-Proto (nginx: 1)
    "password_reset_max_age": 3600,
    "max_upload_mb": 16,
    "staff_online_minutes": 5,
    # How late a change of the runtime settings may reach sign-in and client pages served by
    # another process (portal.platform.runtime_settings); 0: checked on every request.
    "settings_check_seconds": 1,
    "smtp_host": "localhost",
    "smtp_port": 25,
    "smtp_user": "",
    "smtp_password": "",
    "smtp_starttls": False,
    "smtp_ssl": False,
    "smtp_timeout": 10,
    "mail_from": "billing@localhost",
    "imap_host": "",  # empty: no IMAP polling (pipe mail with `portal mail pipe` instead)
    "imap_port": 993,
    "imap_user": "",
    "imap_password": "",
    "imap_ssl": True,
    "imap_folder": "INBOX",
    "support_first_response_minutes": 120,
    "support_resolution_minutes": 1440,
    "support_auto_close_days": 7,  # 0: never close answered tickets automatically
    "support_attachment_max_mb": 10,
    "support_attachment_extensions": [],  # empty: the built-in list (docs/support.md)
    # the portal's public address for links in mail; empty: the address of the request being
    # served, and staff are warned (docs/admin-guide.md); jobs outside requests need it set
    "base_url": "",
    "mail_domain": "",  # the domain of Message-IDs; empty: mail_from's, else base_url's host
    "company_name": "Billing Portal",
    "embedded_scheduler": False,  # host the scheduler in the web process (make run)
    "job_schedules": {},  # {"mail.send": "*/2 * * * *"}; "" turns a job off
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting has a value of the wrong type; the message names the setting."""


def _coerce(key: str, raw: str, default: Any) -> Any:
    """Turn an environment string into the type of the default."""
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise SettingsError(f"PORTAL_{key.upper()} must be true or false, not {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(
                f"PORTAL_{key.upper()} must be a whole number, not {raw!r}"
            ) from None
    if isinstance(default, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(default, dict):
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise SettingsError(f"PORTAL_{key.upper()} must be a JSON object, not {raw!r}")
        return value
    return raw


def settings_file(instance_path: Path, environ: Mapping[str, str]) -> Path | None:
    """The TOML file to read: ``PORTAL_SETTINGS_FILE`` or ``instance/portal.toml`` if present."""
    explicit = environ.get("PORTAL_SETTINGS_FILE")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SettingsError(f"PORTAL_SETTINGS_FILE points to {path}, which does not exist")
        return path
    candidate = instance_path / "portal.toml"
    return candidate if candidate.is_file() else None


def load_settings(
    instance_path: Path,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge defaults, the settings file, the environment and explicit overrides (tests)."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    path = settings_file(instance_path, environ)
    if path is not None:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        unknown = sorted(set(data) - set(DEFAULTS))
        if unknown:
            raise SettingsError(f"Unknown settings in {path}: {', '.join(unknown)}")
        settings.update(data)
    for key, default in DEFAULTS.items():
        raw = environ.get(f"PORTAL_{key.upper()}")
        if raw is not None:
            settings[key] = _coerce(key, raw, default)
    if overrides:
        settings.update(overrides)
    if not settings["database_url"]:
        settings["database_url"] = f"sqlite:///{instance_path / 'portal.db'}"
    if not settings["secret_key"]:
        settings["secret_key"] = _instance_secret_key(instance_path)
    return settings


def _instance_secret_key(instance_path: Path) -> str:
    """Generate the secret key on first start and keep it, so sessions survive restarts."""
    path = instance_path / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    make_private_dir(instance_path)
    key = secrets.token_urlsafe(48)
    with open_private_file(path) as fh:
        fh.write(key.encode())
    return key


def ratelimit_storage(settings: Mapping[str, Any]) -> str:
    """Where rate-limit counters live: the explicit ``ratelimit_storage_uri``, else Redis when
    ``redis_url`` names one, else the process's memory (right only for a single process)."""
    return settings["ratelimit_storage_uri"] or settings["redis_url"] or "memory://"


def flask_config(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Translate portal settings into the names Flask and its extensions read."""
    from datetime import timedelta

    return {
        "PORTAL": dict(settings),
        "SECRET_KEY": settings["secret_key"],
        "SECRET_KEY_FALLBACKS": list(settings["secret_key_fallbacks"]),
        "SQLALCHEMY_DATABASE_URI": settings["database_url"],
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_LOCALE": settings["default_locale"],
        "BABEL_DEFAULT_TIMEZONE": settings["default_timezone"],
        "SESSION_COOKIE_SECURE": settings["session_cookie_secure"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "portal_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=settings["session_lifetime_hours"]),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "RATELIMIT_STORAGE_URI": ratelimit_storage(settings),
        "RATELIMIT_KEY_PREFIX": settings["ratelimit_key_prefix"],
        # Redis down: each process counts in its own memory until it answers again (limits
        # stay, looser) rather than every limited page failing.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "MAX_CONTENT_LENGTH": settings["max_upload_mb"] * 1024 * 1024,
        "BOOTSTRAP_SERVE_LOCAL": True,
    }
