"""The package layout docs/architecture.md describes: ``portal/`` holds the shared packages and
the domain areas, and nothing else, and every area is mounted by ``create_app``."""

from importlib import import_module
from pathlib import Path

import portal
from portal.core.app import AREAS

PORTAL = Path(portal.__file__).parent
#: Everything in portal/ that is not a domain area (``_data``: what a wheel build copies in,
#: see setup.py).
SHARED = {"core", "plugin_api", "billing", "documents", "web", "testing", "translations", "_data"}


def _packages() -> set[str]:
    return {
        path.name
        for path in PORTAL.iterdir()
        if path.is_dir() and path.name != "__pycache__" and not path.name.startswith(".")
    }


def test_portal_holds_only_the_shared_packages_and_the_areas() -> None:
    stray = {path.name for path in PORTAL.iterdir() if path.is_file()} - {"__init__.py"}
    assert stray == set()  # a top-level module belongs to core, the shell or an area
    assert _packages() - SHARED == set(AREAS)  # a new area is mounted (AREAS), or it is no area


def test_every_area_registers_itself() -> None:
    for area in AREAS:
        assert callable(import_module(f"portal.{area}").register), area
