"""A throwaway plugin that implements every hookspec, so tests prove each hook is wired.

tests/web/test_plugins.py checks that this module implements all hooks in portal.hooks.specs.
"""

from __future__ import annotations

from decimal import Decimal

import click
from flask import Blueprint
from markupsafe import Markup

from portal import hookimpl
from portal.gateways import CallbackResult, PaymentGateway
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


class ExerciserGateway(PaymentGateway):
    """Pays an invoice when told so by a callback carrying the invoice id and a transaction id."""

    name = "exerciser"
    label = "Exerciser pay"

    def instructions(self, invoice) -> Markup:
        return Markup("<p id='exerciser-pay'>Pay %s with the exerciser</p>") % invoice.number

    def start_payment(self, invoice) -> str:
        return f"https://pay.example/{invoice.number}"

    def handle_callback(self, form, headers) -> CallbackResult:
        from portal.extensions import db
        from portal.models import Client, Invoice
        from portal.services.payments import record_payment

        if headers.get("X-Exerciser-Secret") != "s3cret":
            return CallbackResult("bad signature", 403)
        invoice = db.session.get(Invoice, int(form["invoice"]))
        client = db.session.get(Client, invoice.client_id)
        payment = record_payment(
            client,
            amount=Decimal(form["amount"]),
            method=self.name,
            reference=form["transaction"],
            payment_date=invoice.issue_date,
            invoices=[invoice],
        )  # a repeated callback finds the payment by its reference and changes nothing
        return CallbackResult("OK", 200, payment.id)


@hookimpl
def register_payment_gateways() -> list[PaymentGateway]:
    return [ExerciserGateway()]


@hookimpl
def resolve_tax_rate(context) -> Decimal | None:
    """Books are VAT-free in this test plugin; everything else is left to the portal."""
    return Decimal(0) if context.product_type == "book" else None
