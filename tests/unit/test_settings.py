"""Settings: defaults, then the TOML file, then PORTAL_* environment variables."""

import sys
from pathlib import Path

import pytest

from portal.core import settings
from portal.core.settings import SettingsError, flask_config, load_settings


def test_defaults_use_sqlite_in_instance_and_keep_a_generated_secret(tmp_path: Path) -> None:
    first = load_settings(tmp_path, environ={})
    assert first["database_url"] == f"sqlite:///{tmp_path / 'portal.db'}"
    assert len(first["secret_key"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert load_settings(tmp_path, environ={})["secret_key"] == first["secret_key"]


def test_file_then_environment_override(tmp_path: Path) -> None:
    (tmp_path / "portal.toml").write_text('theme = "dark"\nplugins = ["a"]\nsmtp_port = 2525\n')
    settings = load_settings(tmp_path, environ={"PORTAL_PLUGINS": "diskspace, telephony"})
    assert settings["theme"] == "dark"
    assert settings["plugins"] == ["diskspace", "telephony"]
    assert settings["smtp_port"] == 2525


def test_environment_values_are_typed(tmp_path: Path) -> None:
    settings = load_settings(
        tmp_path,
        environ={"PORTAL_SMTP_PORT": "587", "PORTAL_SESSION_COOKIE_SECURE": "no"},
    )
    assert settings["smtp_port"] == 587
    assert settings["session_cookie_secure"] is False
    assert flask_config(settings)["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORTAL_SMTP_PORT", "twenty", "PORTAL_SMTP_PORT must be a whole number"),
        ("PORTAL_SMTP_SSL", "maybe", "PORTAL_SMTP_SSL must be true or false"),
    ],
)
def test_bad_environment_values_name_the_setting(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(tmp_path, environ={name: value})


def test_unknown_key_in_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "portal.toml").write_text('them = "dark"\n')
    with pytest.raises(SettingsError, match=r"Unknown settings .*: them"):
        load_settings(tmp_path, environ={})


def test_explicit_settings_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path, environ={"PORTAL_SETTINGS_FILE": str(tmp_path / "nope.toml")})


def test_secure_cookie_settings_by_default(tmp_path: Path) -> None:
    config = flask_config(load_settings(tmp_path, environ={}))
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_data_and_instance_folders_in_a_checkout_and_in_an_installed_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PORTAL_INSTANCE_PATH", raising=False)
    assert settings.data_dir("migrations") == settings.PROJECT_ROOT / "migrations"
    assert settings.instance_dir() == settings.PROJECT_ROOT / "instance"
    assert settings.instance_dir(tmp_path / "x" / "..") == tmp_path
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "env"))
    assert settings.instance_dir() == tmp_path / "env"
    assert settings.instance_dir(tmp_path / "explicit") == tmp_path / "explicit"

    packaged = tmp_path / "_data"  # what setup.py puts into a wheel
    (packaged / "migrations").mkdir(parents=True)
    monkeypatch.setattr(settings, "PACKAGED_DATA", packaged)
    monkeypatch.delenv("PORTAL_INSTANCE_PATH")
    assert settings.data_dir("migrations") == packaged / "migrations"
    assert settings.data_dir("themes") == settings.PROJECT_ROOT / "themes"  # not in this one
    assert settings.instance_dir() == Path(sys.prefix) / "var" / "portal-instance"


def test_rate_limits_count_in_redis_when_it_is_named(tmp_path: Path) -> None:
    def storage(environ: dict[str, str]) -> str:
        return flask_config(load_settings(tmp_path, environ=environ))["RATELIMIT_STORAGE_URI"]

    assert storage({}) == "memory://"
    assert storage({"PORTAL_REDIS_URL": "redis://cache:6379/2"}) == "redis://cache:6379/2"
    explicit = {
        "PORTAL_REDIS_URL": "redis://cache/2",
        "PORTAL_RATELIMIT_STORAGE_URI": "memcached://m",
    }
    assert storage(explicit) == "memcached://m"


@pytest.mark.parametrize("name", ["portal.example.toml", "production.example.toml"])
def test_example_settings_files_load(tmp_path: Path, name: str) -> None:
    path = settings.PROJECT_ROOT / "config" / name
    loaded = load_settings(tmp_path, environ={"PORTAL_SETTINGS_FILE": str(path)})
    if name.startswith("production"):
        assert loaded["redis_url"] and loaded["proxy_hops"] == 1
