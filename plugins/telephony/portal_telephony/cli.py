"""``portal telephony ...``: the number pool from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portal_telephony import numbers


@click.group("telephony")
def telephony_cli() -> None:
    """The telephony module."""


@telephony_cli.command("import-numbers")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--range", "ranges", multiple=True, help="first..last (repeatable)")
def import_numbers_command(files: tuple[str, ...], ranges: tuple[str, ...]) -> None:
    """Add numbers to the pool from FILES (one number or range first..last per line, or a CSV
    whose first two columns are a range) and --range options. Numbers already in the pool are
    kept as they are."""
    lines = list(ranges)
    for name in files:
        lines += Path(name).read_text(encoding="utf-8-sig").splitlines()
    if not lines:
        raise click.UsageError("give FILES or --range")
    result = numbers.import_numbers(lines, actor="cli")
    for error in result.errors:
        click.echo(error, err=True)
    click.echo(f"added {result.added}, already in the pool {result.existing}")
    if result.errors:
        sys.exit(1)


@telephony_cli.command("import-cdrs")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["asterisk", "freeswitch", "generic"]), default="asterisk"
)
@click.option("--source", default="default", help="the PBX's name: call ids are unique per source")
@click.option("--zone", default="UTC", help="the time zone of the file's wall-clock times")
@click.option("--map", "mapping", multiple=True, help="generic CSV: field=Column (repeatable)")
def import_cdrs_command(
    files: tuple[str, ...], fmt: str, source: str, zone: str, mapping: tuple[str, ...]
) -> None:
    """Import and rate call records from FILES (streamed, in batches; a file imported twice
    charges once). Rows that cannot be rated go to the rejects queue with their reason."""
    from portal_telephony.cdr_import import import_file

    columns = dict(item.split("=", 1) for item in mapping)
    for name in files:
        stats = import_file(Path(name), fmt=fmt, source=source, zone=zone, mapping=columns)
        click.echo(
            f"{name}: rows {stats.rows}, rated {stats.rated}, rejected {stats.rejected}, "
            f"duplicates {stats.duplicates}, unanswered {stats.unanswered}, charged {stats.charged}"
        )


@telephony_cli.command("rerate")
def rerate_command() -> None:
    """Rate the rejects queue again (after a number was assigned, a prefix or a rate added)."""
    from portal_telephony.cdr_import import rerate_rejects

    stats = rerate_rejects()
    click.echo(f"rated {stats.rated}, still rejected {stats.rows - stats.rated}")


@telephony_cli.command("add-pbx")
@click.argument("name")
def add_pbx_command(name: str) -> None:
    """Allow the PBX NAME to post CDRs to /telephony/api/cdrs; prints its token once."""
    from portal_telephony.rating_views import add_pbx

    click.echo(add_pbx(name))
