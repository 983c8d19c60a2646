"""The example plugin: ``portal example-greet NAME`` stores a greeting in its own table."""

from __future__ import annotations

import click

from portal.plugin_api import hookimpl, session


@click.command("example-greet")
@click.argument("name")
def greet(name: str) -> None:
    """Store a greeting for NAME and say how many there are."""
    from portal_example.models import Greeting

    session().add(Greeting(name=name))
    session().commit()
    click.echo(f"Hello, {name}! ({session().query(Greeting).count()} greetings)")


@hookimpl
def register_cli_commands() -> list[click.Command]:
    return [greet]
