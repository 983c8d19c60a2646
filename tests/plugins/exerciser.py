"""A throwaway plugin that implements every hookspec, so tests prove each hook is wired.

tests/web/test_plugins.py checks that this module implements all hooks in
portal.platform.hooks.specs. Like any plugin it imports only portal.plugin_api and portal.billing
(tests/integration/test_plugin_api_contract.py checks it).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click
from flask import Blueprint
from flask_babel import get_locale
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import DecimalField, Form, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange

from portal.billing import round_money
from portal.plugin_api import (
    BankStatement,
    CallbackResult,
    Chart,
    Client,
    ClientCardTab,
    ClientRecords,
    DashboardCounter,
    Invoice,
    InvoiceAttachment,
    JobDefinition,
    MenuItem,
    Panel,
    PaymentGateway,
    PluginSettings,
    ProductFields,
    Provisioner,
    ProvisioningError,
    Report,
    ReportResult,
    Service,
    StatementEntry,
    StatementParser,
    UsageCharge,
    UsageCollector,
    hookimpl,
    record_payment,
    session,
)

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
def register_dashboard_counters() -> list[DashboardCounter]:
    return [
        DashboardCounter("exerciser_events", "Exerciser events", "exerciser.index", lambda: 7),
        DashboardCounter(
            "exerciser_secret", "Exerciser settings", None, lambda: 3, "settings.manage"
        ),
        # a core key: ignored, the core's counter stays
        DashboardCounter("pending_orders", "Hijacked", None, lambda: 99),
    ]


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
        if headers.get("X-Exerciser-Secret") != "s3cret":
            return CallbackResult("bad signature", 403)
        invoice = session().get(Invoice, int(form["invoice"]))
        client = session().get(Client, invoice.client_id)
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


# --- provisioning: commands recorded (tests/integration/test_provisioning.py) ---------------------

COMMANDS: list[tuple[str, int]] = []


class ExerciserProvisioner(Provisioner):
    """Records every command; it has no ``terminate``, so termination is done by default."""

    name, label = "exerciser", "Exerciser"

    def create(self, service, context) -> None:
        COMMANDS.append(("create", service.id))

    def suspend(self, service, context) -> None:
        COMMANDS.append(("suspend", service.id))

    def unsuspend(self, service, context) -> None:
        COMMANDS.append(("unsuspend", service.id))

    def change_package(self, service, context) -> None:
        COMMANDS.append(("change_package", service.id))

    def test_connection(self, settings) -> str:
        if "unreachable" in settings.get("endpoint", ""):
            raise ProvisioningError(f"cannot reach {settings['endpoint']}")
        return f"Connected to {settings['endpoint']}"


@hookimpl
def register_provisioners() -> list[Provisioner]:
    return [ExerciserProvisioner()]


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


# --- registries of the plugin platform: usage, statements, reports, settings, product fields ------


class Meter(UsageCollector):
    """Usage of products whose Module is "exerciser-meter": 3 GB at 10.00 per period."""

    name = "exerciser-meter"

    def __init__(self) -> None:
        self.asked: list[tuple[int, Any]] = []

    def collect(self, service, period) -> list[UsageCharge]:
        self.asked.append((service.id, period))
        return [UsageCharge("Traffic above the plan", Decimal("3"), Decimal("10.00"), unit="GB")]


METER = Meter()


@hookimpl
def register_usage_collectors() -> list[UsageCollector]:
    return [METER]


class SemicolonStatement(StatementParser):
    """A toy bank format: the line "EXERCISER-BANK", then "number;dd.mm.yyyy;amount;inn;purpose"."""

    name, label = "exerciser-bank", "Exerciser bank CSV"

    def recognises(self, data: bytes) -> bool:
        return data.startswith(b"EXERCISER-BANK")

    def parse(self, data: bytes) -> BankStatement:
        entries = []
        for line in data.decode().splitlines()[1:]:
            number, day, amount, inn, purpose = line.split(";")
            entries.append(
                StatementEntry(
                    number=number,
                    day=datetime.strptime(day, "%d.%m.%Y").date(),
                    amount=Decimal(amount),
                    purpose=purpose,
                    payer_inn=inn,
                )
            )
        return BankStatement(parser=self.name, entries=tuple(entries))


@hookimpl
def register_statement_parsers() -> list[StatementParser]:
    return [SemicolonStatement()]


class InvoiceFilters(Form):
    status = SelectField("Status", choices=[("", "any"), ("paid", "paid"), ("unpaid", "unpaid")])


class InvoicesByMonth(Report):
    """Invoices issued per month with their total: a table and a bar chart."""

    name, label = "exerciser_invoices", "Invoices by month"
    filters = InvoiceFilters

    def run(self, filters) -> ReportResult:
        from sqlalchemy import select

        query = select(Invoice).where(Invoice.number.is_not(None)).order_by(Invoice.issue_date)
        if filters.get("status"):
            query = query.where(Invoice.status == filters["status"])
        months: dict[str, tuple[int, Decimal]] = {}
        for invoice in session().scalars(query):
            month = f"{invoice.issue_date:%Y-%m}"
            count, total = months.get(month, (0, Decimal("0.00")))
            months[month] = (count + 1, total + invoice.total)
        rows = [(m, count, round_money(total, "RUB")) for m, (count, total) in months.items()]
        chart = Chart("bar", [r[0] for r in rows], [("Total", [r[2] for r in rows])], "Invoices")
        return ReportResult(["Month", "Invoices", "Total"], rows, chart)


@hookimpl
def register_reports() -> list[Report]:
    return [InvoicesByMonth()]


class ExerciserSettingsForm(FlaskForm):
    endpoint = StringField("PBX address", validators=[DataRequired()])
    api_token = PasswordField("API token")
    limit = IntegerField("Calls per minute", validators=[NumberRange(min=1)])
    minute_price = DecimalField("Price of a minute", places=2, default=Decimal("1.20"))


@hookimpl
def register_settings() -> list[PluginSettings]:
    return [
        PluginSettings(
            "exerciser",
            ExerciserSettingsForm,
            defaults={"endpoint": "https://pbx.example", "limit": 10, "minute_price": "1.20"},
            label="Exerciser PBX",
        )
    ]


class ExerciserProductForm(FlaskForm):
    package_gb = IntegerField("GB in a package", validators=[NumberRange(min=1, max=1000)])
    backend = SelectField("Backend", choices=[("ticket", "ticket"), ("command", "command")])


@hookimpl
def register_product_fields() -> list[ProductFields]:
    return [
        ProductFields(
            "exerciser",
            ExerciserProductForm,
            defaults={"package_gb": 5, "backend": "ticket"},
            modules=("exerciser",),
            label="Exerciser package",
        )
    ]


@hookimpl
def co_term_with(client, product, cycle, start):
    """A product named "... (follows)" ends with the client's newest service of the cycle (the
    core would take the oldest); "... (follows anything)" names a service the core must not
    take (another client's), so the core decides."""
    if product.name.endswith("(follows anything)"):
        return session().scalar(
            select(Service).where(Service.client_id != client.id).order_by(Service.id).limit(1)
        )
    if not product.name.endswith("(follows)"):
        return None
    return session().scalar(
        select(Service)
        .where(Service.client_id == client.id, Service.cycle == cycle.value)
        .order_by(Service.registration_date.desc(), Service.id.desc())
        .limit(1)
    )


@hookimpl
def register_client_card_tabs() -> list[ClientCardTab]:
    return [
        ClientCardTab("exerciser", "Exerciser tab", lambda c: Markup("<b>tab of %s</b>") % c.email),
        ClientCardTab("secret", "Secret tab", lambda c: "hidden", permission="settings.manage"),
    ]


#: The days ``load_demo_data`` was called with.
DEMO_DAYS: list[date] = []


@hookimpl
def load_demo_data(today) -> list[str]:
    DEMO_DAYS.append(today)
    return ["exerciser demo  nobody@example.com"]


@hookimpl
def setup_coefficient(client, product) -> Decimal | None:
    """A product named "... (setup x0.5555)" has its setup fee times 0.5555 for everyone."""
    return Decimal("0.5555") if product.name.endswith("(setup x0.5555)") else None


@hookimpl
def validate_order(client, items) -> str | None:
    """Products named "Forbidden ..." cannot be ordered; the rest is left to others."""
    for item in items:
        if item.product is not None and item.product.name.startswith("Forbidden"):
            return f"{item.product.name} is not sold to {client.email}"
    return None


# --- client records: what the exerciser keeps per client follows a merge ----------------------

#: Client ids whose exerciser records are history (such a client is closed, not deleted).
KEPT: set[int] = set()
#: Client ids whose records cannot be merged away (the merge is refused).
LOCKED: set[int] = set()
MERGES: list[tuple[int, int]] = []


def _move_records(source_id: int, target_id: int) -> None:
    MERGES.append((source_id, target_id))
    if source_id in KEPT:
        KEPT.discard(source_id)
        KEPT.add(target_id)


def _refuse_merge(source_id: int, target_id: int) -> str | None:
    return f"exerciser records of #{source_id} are locked" if source_id in LOCKED else None


@hookimpl
def register_client_records() -> list[ClientRecords]:
    return [
        ClientRecords(
            "exerciser",
            _move_records,
            has_history=lambda client_id: client_id in KEPT,
            refuse_merge=_refuse_merge,
        )
    ]


# --- invoice attachments: a usage statement on the invoices named here -------------------------

#: Invoice ids that get the exerciser's usage statement; the invoices it was rendered for.
ATTACHED: set[int] = set()
RENDERED: list[int] = []


def _usage_statement(invoice: Invoice) -> bytes:
    RENDERED.append(invoice.id)
    return f"invoice,{invoice.number},{get_locale()}\n".encode()


@hookimpl
def invoice_attachments(invoice) -> list[InvoiceAttachment]:
    if invoice.id not in ATTACHED:
        return []
    return [
        InvoiceAttachment(
            "usage.csv",
            "Usage statement",
            f"usage-{invoice.number}.csv",
            "text/csv",
            lambda: _usage_statement(invoice),
        )
    ]
