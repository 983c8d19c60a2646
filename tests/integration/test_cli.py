"""The `portal` command: demo data (idempotent), staff creation, plugins list, a quick start."""

import os
import re
import subprocess
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from portal.accounts.models import Client, Staff
from portal.catalog.models import Product
from portal.core.extensions import db
from portal.core.settings import PROJECT_ROOT
from portal.platform.models import Setting


def test_demo_is_idempotent_and_prints_the_logins(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo data loaded." in first.output
    assert "admin@example.com" in first.output and "demo-admin-password" in first.output
    assert "client@example.com" in first.output and "demo-client-password" in first.output
    counts = [
        db.session.scalar(select(func.count()).select_from(m)) for m in (Staff, Client, Product)
    ]
    second = runner.invoke(args=["demo"])
    assert "Demo data already present." in second.output
    again = [
        db.session.scalar(select(func.count()).select_from(m)) for m in (Staff, Client, Product)
    ]
    assert counts == again and counts[2] >= 3


def test_demo_logins_work(app: Flask) -> None:
    app.test_cli_runner().invoke(args=["demo"])
    web = app.test_client()
    web.sign_in_staff("admin@example.com", "demo-admin-password")
    assert web.get("/admin/").status_code == 200
    web.sign_in_client("client@example.com", "demo-client-password")
    assert "ООО «Ромашка»" in web.get("/").get_data(as_text=True)


def test_staff_create(app: Flask) -> None:
    runner = app.test_cli_runner()
    args = ["staff", "create", "--email", "New@Example.com", "--first-name", "Олег"]
    result = runner.invoke(args=args, input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    staff = db.session.scalar(select(Staff).where(Staff.email == "new@example.com"))
    assert staff is not None and staff.check_password("a long password")
    again = runner.invoke(args=args, input="a long password\na long password\n")
    assert again.exit_code != 0
    assert "already exists" in again.output


#: Run in a fresh interpreter: the shell's view of `portal --help` and `portal plugins list`.
FROM_THE_SHELL = """
import sys
from portal.core.cli import main

for args in (["--help"], ["plugins", "list"]):
    try:
        main(args, prog_name="portal")
    except SystemExit as exit:
        assert not exit.code, exit.code
print("app built:", "portal.core.app" in sys.modules)
"""


def test_help_and_plugins_list_start_without_building_the_app(app: Flask, tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = site / "quietplug-3.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: quietplug\nVersion: 3.0\n")
    (info / "entry_points.txt").write_text("[portal.plugins]\nquietplug = quietplug\n")
    (site / "quietplug.py").write_text(
        "import click\nfrom portal import hookimpl\n\n"
        "@hookimpl\ndef register_cli_commands():\n"
        "    return [click.Command('quiet-hello', callback=lambda: click.echo('hello'))]\n"
    )
    # enabled by staff (the stored choice), not by the plugins setting
    db.session.add(Setting(key="plugins_enabled", value={"quietplug": True}))
    db.session.commit()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env |= {
        "PYTHONPATH": os.pathsep.join([str(site), str(PROJECT_ROOT)]),
        "PORTAL_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "PORTAL_PLUGINS": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", FROM_THE_SHELL], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout
    for command in ("billing", "db", "demo", "jobs", "mail", "plugins", "staff", "scheduler"):
        assert re.search(rf"^  {command} +\S", output, re.M), command  # listed with its help
    assert "`portal plugins list` names them" in output
    assert re.search(r"^quietplug\s+enabled\s+3\.0\s+quietplug$", output, re.M)
    assert "    commands: quiet-hello" in output
    assert "app built: False" in output
