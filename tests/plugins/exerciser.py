"""A throwaway plugin that implements every hookspec, so tests prove each hook is wired.

tests/web/test_plugins.py checks that this module implements all hooks in portal.hooks.specs.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import click
from flask import Blueprint
from markupsafe import Markup

from portal import hookimpl
from portal.billing import UsageCharge
from portal.gateways import CallbackResult, PaymentGateway
from portal.jobs import JobDefinition
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


# --- automation: scheduled jobs, usage --------------------------------------------------------

TICKS: list[date] = []


def tick(as_of: date) -> dict[str, int]:
    TICKS.append(as_of)
    return {"ticks": len(TICKS)}


@hookimpl
def register_scheduled_jobs() -> list[JobDefinition]:
    return [JobDefinition("exerciser.tick", "Exerciser tick", "*/10 * * * *", tick)]


@hookimpl
def collect_usage(service, period) -> list[UsageCharge]:
    """Minutes of calls, for the products whose name says so."""
    if "minutes" not in service.product.name:
        return []
    return [UsageCharge("Calls", Decimal("100"), Decimal("1.50"), unit="min")]


# --- event hooks: recorded so tests can see that each is fired ----------------------------------

EVENTS: list[tuple[str, Any]] = []


@hookimpl
def client_created(client) -> None:
    EVENTS.append(("client_created", client.id))


@hookimpl
def order_placed(order) -> None:
    EVENTS.append(("order_placed", order.id))


@hookimpl
def order_accepted(order) -> None:
    EVENTS.append(("order_accepted", order.id))


@hookimpl
def invoice_created(invoice) -> None:
    EVENTS.append(("invoice_created", invoice.id))


@hookimpl
def invoice_issued(invoice) -> None:
    EVENTS.append(("invoice_issued", invoice.number))


@hookimpl
def invoice_paid(invoice) -> None:
    EVENTS.append(("invoice_paid", invoice.number))


@hookimpl
def payment_received(payment) -> None:
    EVENTS.append(("payment_received", payment.reference))


@hookimpl
def service_suspended(service, reason) -> None:
    EVENTS.append(("service_suspended", (service.id, reason)))


@hookimpl
def service_unsuspended(service) -> None:
    EVENTS.append(("service_unsuspended", service.id))


@hookimpl
def service_terminated(service) -> None:
    EVENTS.append(("service_terminated", service.id))


@hookimpl
def service_renewed(service, period, invoice) -> None:
    EVENTS.append(("service_renewed", (service.id, period.start, invoice.id)))


@hookimpl
def ticket_opened(ticket) -> None:
    EVENTS.append(("ticket_opened", ticket.reference))


@hookimpl
def ticket_replied(ticket, message) -> None:
    EVENTS.append(("ticket_replied", (ticket.reference, message.kind.value)))
