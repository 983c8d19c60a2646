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
