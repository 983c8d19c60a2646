"""A throwaway plugin that implements every hookspec, so tests prove each hook is wired.

tests/web/test_plugins.py checks that this module implements all hooks in portal.hooks.specs.
"""

from __future__ import annotations

import click
from flask import Blueprint
from markupsafe import Markup

from portal import hookimpl
from portal.web.menu import MenuItem, Panel

pages = Blueprint("exerciser", __name__, url_prefix="/admin/exerciser")
pages.portal_area = "admin"


@pages.route("/")
def index() -> str:
    return "exerciser admin page"


client_pages = Blueprint("exerciser_client", __name__, url_prefix="/exerciser")
client_pages.portal_area = "client"


@client_pages.route("/")
def client_index() -> str:
    from flask_login import current_user

    return f"exerciser client page for {current_user.email}"


@click.command("exerciser-hello")
def hello() -> None:
    """Say hello from the exerciser plugin."""
    click.echo("hello from the exerciser")


@hookimpl
def register_blueprints() -> list[Blueprint]:
    return [pages, client_pages]


@hookimpl
def register_admin_menu_items() -> list[MenuItem]:
    return [MenuItem("utilities", "Exerciser tools", "exerciser.index")]


@hookimpl
def register_client_area_panels() -> list[Panel]:
    return [Panel("Exerciser panel", lambda client: Markup("<b>panel for %s</b>") % client.email)]


@hookimpl
def register_cli_commands() -> list[click.Command]:
    return [hello]
