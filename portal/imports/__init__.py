"""Imports from other billing systems (``portal import ...``): WHMCS so far.

Each source is a package (``portal.imports.whmcs``) that reads the other system and writes
through the portal's models; what the importer remembers across runs (which source row became
which portal row) is the area's one table, ``import_mapping`` (:mod:`portal.imports.models`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """No pages: the area only brings its model (the ``portal import`` command is the CLI's)."""
    import portal.imports.models  # noqa: F401  (registers the table with SQLAlchemy)
