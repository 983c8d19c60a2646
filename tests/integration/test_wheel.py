"""The wheel is self-contained: built from a copy of the checkout without compiled catalogues (as
a clean clone is), installed into a throwaway virtualenv, it migrates a database and serves the
client login page in Russian with the default theme, from a directory outside the checkout.

Select it with ``-m packaging``; it also runs in ``make test``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from portal.core.settings import PROJECT_ROOT
from portal.testing.databases import fresh_database

pytestmark = pytest.mark.packaging

#: Not part of a clean clone: build output, caches, environments, compiled catalogues.
LEFT_OUT = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "instance", "_data", "*.egg-info", "__pycache__", "*.pyc",
    ".pytest_cache", ".ruff_cache", ".hypothesis", ".make-*.stamp", "*.mo",
)  # fmt: skip

#: Run by the virtualenv's interpreter: what an installed portal must be able to do.
CHECK = """
import json, sys
import portal
from portal.core.app import create_app
from portal.documents.examples import invoice_71475
from portal.documents.render import font_dir, invoice_html

app = create_app()
web = app.test_client()
login = web.get("/login")
staff_login = web.get("/admin/login")
css = web.get("/theme/static/theme.css")
json.dump({
    "portal": portal.__file__,
    "font_dir": str(font_dir()),
    "invoice": "Счёт на оплату" in invoice_html(invoice_71475()),
    "login": [login.status_code, login.get_data(as_text=True)],
    "staff_login": staff_login.status_code,
    "css": [css.status_code, len(css.get_data())],
}, sys.stdout)
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the wheel installed; the portal's dependencies come from the running
    environment's site-packages, added as a plain path so that its ``.pth`` files (the editable
    install's finder, which would map ``portal`` back to the checkout) are not run."""
    home = tmp_path_factory.mktemp("wheel")
    source = shutil.copytree(PROJECT_ROOT, home / "src", ignore=LEFT_OUT)
    assert not list(source.glob("portal/translations/*/LC_MESSAGES/*.mo"))
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", home / "dist", source],
        check=True, cwd=home,
    )  # fmt: skip
    (wheel,) = (home / "dist").glob("billing_portal-*.whl")

    venv.EnvBuilder(with_pip=False).create(home / "venv")
    python = home / "venv" / "bin" / "python"
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(site_packages, "portal_dependencies.pth").write_text(sysconfig.get_paths()["purelib"])
    subprocess.run(
        [*pip, "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel],
        check=True, cwd=home,
    )  # fmt: skip
    return home / "venv"


def test_the_wheel_runs_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with fresh_database(tmp_path, "_wheel") as url:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PORTAL_", "PYTHON", "FLASK_"))
        }
        env |= {
            "PORTAL_DATABASE_URL": url,
            "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
            "PORTAL_SESSION_COOKIE_SECURE": "0",
        }

        def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
            result = subprocess.run(
                args, env=env, cwd=elsewhere, capture_output=True, text=True, timeout=120
            )
            assert result.returncode == 0, result.stdout + result.stderr
            return result

        # the wheel's console script; the migrations come from inside the installed package
        upgrade = run(installed / "bin" / "portal", "db", "upgrade")
        assert "-> 0001_foundation" in upgrade.stderr  # Alembic logs each revision it runs
        assert "(head)" in run(installed / "bin" / "portal", "db", "current").stdout

        found = json.loads(run(installed / "bin" / "python", "-c", CHECK).stdout)

    package = Path(found["portal"]).resolve()
    assert package.is_relative_to(installed.resolve())
    assert not package.is_relative_to(PROJECT_ROOT.resolve())
    assert Path(found["font_dir"]).is_relative_to(installed.resolve())  # not the system's fonts
    assert found["invoice"]
    status, page = found["login"]
    assert status == 200
    assert "Вход в личный кабинет" in page  # the compiled Russian catalogue (default locale)
    assert "/theme/static/theme.css" in page  # the default theme's base template
    assert found["staff_login"] == 200
    assert found["css"][0] == 200 and found["css"][1] > 0
