"""Running an import: every step in order, each in its own transaction; a dry run in one that
is rolled back at the end.

Nothing mails anybody during an import: steps write the models directly (with an audit entry)
instead of calling the services that mail clients or fire hooks (welcome mail, ticket
acknowledgements, plugin reactions to a new client), see docs/migrating-from-whmcs.md.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from flask import current_app

from portal.core.app_state import clock
from portal.core.extensions import db
from portal.core.transactions import unit_of_work
from portal.imports.report import ImportReport
from portal.imports.whmcs.context import ImportContext, ImportOptions, Progress, no_progress
from portal.imports.whmcs.source import WhmcsSource
from portal.imports.whmcs.steps import step_modules


class _DryRunEnds(Exception):
    """Raised at the end of a dry run so that the unit of work rolls everything back."""


def import_whmcs(
    source_url: str,
    *,
    dry_run: bool = False,
    since: date | None = None,
    progress: Progress = no_progress,
    options: ImportOptions | None = None,
) -> ImportReport:
    """Import a WHMCS 8.x database into the portal; returns what was (or would be) done.

    Safe to run again: rows imported before are matched through ``import_mapping`` and only
    changed ones are written. ``since`` reads only rows changed on or after that day (where
    the WHMCS table records changes; other tables are read whole and compared).
    """
    source = WhmcsSource(source_url)
    report = ImportReport(dry_run=dry_run)
    ctx = ImportContext(
        source=source,
        report=report,
        now=clock().now(),
        since=since,
        options=_with_timezone(options or ImportOptions()),
        progress=progress,
    )
    steps = step_modules()
    try:
        if dry_run:
            try:
                with unit_of_work():
                    for _name, step in steps:
                        step.run(ctx)
                        db.session.flush()
                    _totals(ctx, steps)
                    raise _DryRunEnds
            except _DryRunEnds:
                pass
        else:
            for _name, step in steps:
                try:
                    with unit_of_work():
                        step.run(ctx)
                except BaseException:
                    ctx.mappings.forget_cache()
                    raise
            _totals(ctx, steps)
    finally:
        ctx.mappings.forget_cache()
        source.close()
    return report


def _with_timezone(options: ImportOptions) -> ImportOptions:
    if options.source_timezone:
        return options
    zone = current_app.config["PORTAL"]["default_timezone"]
    return dataclasses.replace(options, source_timezone=zone)


def _totals(ctx: ImportContext, steps: list) -> None:
    for _name, step in steps:
        totals = getattr(step, "totals", None)
        if totals is not None:
            totals(ctx)
