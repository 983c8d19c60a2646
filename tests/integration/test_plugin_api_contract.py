"""Plugins are held to ``portal.plugin_api``: the import-linter contract in setup.cfg breaks when a
plugin imports past it, the disk-space plugin keeps it, the contract forbids every other part of
the portal, and no plugin file (tests included, which import-linter does not see) imports
anything of the portal but the plugin API, ``portal.billing`` and ``portal.testing``."""

from __future__ import annotations

import ast
import configparser
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from portal.core.settings import PROJECT_ROOT

CONTRACT = "plugins-use-the-plugin-api"
ALLOWED = ("portal.plugin_api", "portal.billing", "portal.testing")
#: Plugin code in this repository: the shipped plugins, the example plugin, the exerciser.
PLUGIN_FILES = sorted(
    [
        *PROJECT_ROOT.glob("plugins/*/**/*.py"),
        *(PROJECT_ROOT / "tests" / "example_plugin").glob("**/*.py"),
        PROJECT_ROOT / "tests" / "plugins" / "exerciser.py",
    ]
)


def contract() -> configparser.SectionProxy:
    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / "setup.cfg", encoding="utf-8")
    return config[f"importlinter:contract:{CONTRACT}"]


def forbidden() -> list[str]:
    return contract()["forbidden_modules"].split()


def lint_imports(config: Path, cwd: Path, *paths: Path, contract_id: str = CONTRACT) -> str:
    """Run ``lint-imports`` on ``config`` with ``paths`` first on the import path; its output,
    with the exit code on the first line."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(path) for path in paths)}
    command = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    done = subprocess.run(
        [sys.executable, "-c", command, "--no-cache", "--no-logo", "--contract", contract_id,
         str(config)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    return f"{done.returncode}\n{done.stdout}{done.stderr}"


def throwaway_plugin(root: Path, body: str) -> Path:
    """A plugin package ``throwaway_plugin`` in ``root`` and a config holding it to the
    contract of setup.cfg (the same forbidden modules)."""
    package = root / "throwaway_plugin"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(body))
    modules = "\n".join(f"    {name}" for name in forbidden())
    config = root / "importlinter.ini"
    config.write_text(
        "[importlinter]\nroot_packages =\n    portal\n    throwaway_plugin\n"
        "include_external_packages = True\n\n"
        f"[importlinter:contract:{CONTRACT}]\nname = the plugin API only\ntype = forbidden\n"
        f"source_modules =\n    throwaway_plugin\nforbidden_modules =\n{modules}\n"
        f"allow_indirect_imports = {contract()['allow_indirect_imports']}\n"
    )
    return config


def test_a_plugin_importing_past_the_api_breaks_the_contract(tmp_path: Path) -> None:
    config = throwaway_plugin(
        tmp_path,
        """
        from portal.core.extensions import db
        from portal.plugin_api import hookimpl


        @hookimpl
        def register_reports():
            return db.session.execute("select 1").all()
        """,
    )
    output = lint_imports(config, tmp_path, tmp_path, PROJECT_ROOT)
    assert output.startswith("1\n"), output
    assert "BROKEN" in output
    assert "throwaway_plugin -> portal.core.extensions" in output


def test_a_plugin_using_only_the_api_keeps_the_contract(tmp_path: Path) -> None:
    """The same check passes for a plugin that stays inside the API (plugin_api itself imports
    the areas: those indirect imports are allowed)."""
    config = throwaway_plugin(
        tmp_path,
        """
        from portal.billing import Period
        from portal.plugin_api import Service, hookimpl, session, today
        """,
    )
    output = lint_imports(config, tmp_path, tmp_path, PROJECT_ROOT)
    assert output.startswith("0\n") and "KEPT" in output, output


def test_the_disk_space_plugin_keeps_the_contract() -> None:
    """This checkout's plugin (not a copy installed elsewhere) against this checkout's portal."""
    output = lint_imports(
        PROJECT_ROOT / "setup.cfg",
        PROJECT_ROOT,
        PROJECT_ROOT,
        PROJECT_ROOT / "plugins" / "diskspace",
    )
    assert output.startswith("0\n") and "KEPT" in output, output


def test_the_contract_forbids_every_part_of_the_portal_but_the_api() -> None:
    """A new area is forbidden to plugins as soon as it exists, and every shipped plugin is a
    source of the contract."""
    packages = {
        f"portal.{path.parent.name}" for path in (PROJECT_ROOT / "portal").glob("*/__init__.py")
    }
    assert set(forbidden()) == packages - set(ALLOWED)
    shipped = {path.parent.name for path in PROJECT_ROOT.glob("plugins/*/*/__init__.py")}
    assert set(contract()["source_modules"].split()) == shipped


def portal_imports(path: Path) -> list[str]:
    """Every module of the portal ``path`` imports (``portal`` itself included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name == "portal" or name.startswith("portal.")]
    return found


def allowed(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in ALLOWED)


def test_no_plugin_file_imports_past_the_api() -> None:
    assert len(PLUGIN_FILES) > 10  # the disk-space plugin and its tests are among them
    outside = {
        str(path.relative_to(PROJECT_ROOT)): bad
        for path in PLUGIN_FILES
        if (bad := [name for name in portal_imports(path) if not allowed(name)])
    }
    assert outside == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from portal import hookimpl", ["portal"]),
        ("import portal.core.clock as clock", ["portal.core.clock"]),
        ("from portal.plugin_api import today\nfrom . import models", ["portal.plugin_api"]),
    ],
)
def test_the_scan_sees_every_form_of_import(tmp_path: Path, source: str, expected) -> None:
    module = tmp_path / "plugin.py"
    module.write_text(source)
    assert portal_imports(module) == expected
    assert [allowed(name) for name in expected] == [
        name == "portal.plugin_api" for name in expected
    ]
