"""The example plugin: ``portal example-greet NAME`` stores a greeting in its own table."""

from __future__ import annotations

import click

from portal import hookimpl


@click.command("example-greet")
@click.argument("name")
def greet(name: str) -> None:
    """Store a greeting for NAME and say how many there are."""
    from portal.core.extensions import db
    from portal_example.models import Greeting

    db.session.add(Greeting(name=name))
    db.session.commit()
    click.echo(f"Hello, {name}! ({db.session.query(Greeting).count()} greetings)")


@hookimpl
def register_cli_commands() -> list[click.Command]:
    return [greet]
