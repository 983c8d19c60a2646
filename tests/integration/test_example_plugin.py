"""The third-party path end to end: the example plugin (tests/example_plugin) is pip-installed
into a throwaway virtualenv, found through its ``portal.plugins`` entry point, enabled, and
``portal db upgrade`` creates its table on its own Alembic branch; disabling it leaves the
database upgradable, and ``portal db downgrade example@base`` drops its table."""

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.core.settings import PROJECT_ROOT
from portal.testing.databases import fresh_database

EXAMPLE = PROJECT_ROOT / "tests" / "example_plugin"


@pytest.fixture(scope="module")
def plugin_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv that sees the portal's environment and has the example plugin installed
    from its directory, offline."""
    home = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(home)
    python = home / "bin" / "python"
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # --system-site-packages reaches the base interpreter; add the running venv's packages
    # (with their .pth files: the portal is an editable install) behind the new venv's own.
    ours = sysconfig.get_paths()["purelib"]
    Path(site_packages, "portal_env.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    source = shutil.copytree(EXAMPLE, home / "src")  # the build writes next to the sources
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--no-index", str(source)],
        check=True,
        cwd=home,
    )  # fmt: skip
    return python


def portal(python: Path, env: dict[str, str], *args: str) -> str:
    """Run the ``portal`` command with the virtualenv's interpreter."""
    result = subprocess.run(
        [python, "-c", "import sys; from portal.core.cli import main; sys.exit(main())", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _read(url: str, read) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(read(connection))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    return _read(url, lambda connection: sa.inspect(connection).get_table_names())


def versions(url: str) -> set[str]:
    """The revisions Alembic recorded: one per branch head."""
    return _read(url, lambda c: c.scalars(sa.text("SELECT version_num FROM alembic_version")))


def test_the_example_plugin_installs_migrates_and_loads(plugin_python: Path, tmp_path) -> None:
    with fresh_database(tmp_path, "_example") as url:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("PORTAL_") and key != "PYTHONPATH"
        }
        env |= {
            "PORTAL_DATABASE_URL": url,
            "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
            "PORTAL_SECRET_KEY": "example-plugin-test",
            "PORTAL_PLUGINS": "example",
        }
        portal(plugin_python, env, "db", "upgrade")
        assert {"example_greeting", "client", "plugin_setting"} <= tables(url)
        assert "example_0001" in versions(url)  # (0009_plugins too, or implied as its dependency)

        listed = portal(plugin_python, env, "plugins", "list")
        assert "example" in listed and "enabled" in listed and "portal_example" in listed
        assert "commands: example-greet" in listed
        assert "Hello, Мир! (1 greetings)" in portal(plugin_python, env, "example-greet", "Мир")

        # disabled: its applied revision does not stop the core from upgrading
        portal(plugin_python, {**env, "PORTAL_PLUGINS": ""}, "db", "upgrade")
        assert "example_greeting" in tables(url)

        portal(plugin_python, env, "db", "downgrade", "example@base")
        remaining = tables(url)
        assert "example_greeting" not in remaining and "client" in remaining
