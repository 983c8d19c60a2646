"""Import step contacts (being written)."""

from __future__ import annotations

from portal.imports.whmcs.context import ImportContext


def run(ctx: ImportContext) -> None:
    pass
