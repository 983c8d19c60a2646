"""Staff's versions of the e-mail templates: save, reset to the built-in text, preview.

A draft is checked by rendering it strictly, in the sandbox, against sample objects built in
memory (never added to the session, so a preview writes nothing). A draft that does not render
is refused with Jinja's message and the stored text stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from portal.accounts import audit
from portal.accounts.models.client import Client
from portal.catalog.models.catalog import Product
from portal.core.app_state import clock
from portal.core.clock import today
from portal.core.extensions import db
from portal.invoicing.models.invoice import Invoice, InvoiceLine, InvoiceStatus
from portal.invoicing.models.payment import Payment
from portal.messaging import templates as mail_templates
from portal.messaging.models.mail_template import MailTemplate
from portal.messaging.templates import TEMPLATES, MailTemplateSpec
from portal.orders.models.order import Order, OrderItem
from portal.orders.models.service import Service, ServiceStatus

D = Decimal


@dataclass(frozen=True)
class Draft:
    """What staff see in the editor: the stored (or built-in) sources of one language."""

    subject: str
    body: str
    edited: bool


def locales() -> list[str]:
    return list(current_app.config["PORTAL"]["locales"])


def spec_for(name: str, locale: str) -> MailTemplateSpec | None:
    """The template, if ``name`` and ``locale`` are known (anything else is a 404)."""
    return TEMPLATES.get(name) if locale in locales() else None


def edited_locales() -> dict[str, list[str]]:
    """For each template name, the languages staff have replaced (one query)."""
    found: dict[str, list[str]] = {}
    rows = db.session.execute(
        select(MailTemplate.name, MailTemplate.locale).order_by(MailTemplate.locale)
    )
    for name, locale in rows:
        found.setdefault(name, []).append(locale)
    return found


def draft(name: str, locale: str) -> Draft:
    row = mail_templates.edited(name, locale)
    if row is not None:
        return Draft(row.subject, row.body, True)
    subject, body = mail_templates.builtin_source(name)
    return Draft(subject, body, False)


# --- sample data ------------------------------------------------------------------------------

_PEOPLE = {
    "ru": ("Иван", "Петров", "ООО «Ромашка»", "Виртуальный сервер «Старт»", "п/п 17"),
    "en": ("John", "Smith", "Acme Ltd", "Virtual server Start", "PO 17"),
}


@dataclass(frozen=True)
class _Sample:
    """Plain facts the sample objects share, in the template's language."""

    today: date
    currency: str
    product: str
    reference: str


def _invoice(sample: _Sample, client: Client, *, paid: bool) -> Invoice:
    net, tax = D("12500.00"), D("2750.00")
    invoice = Invoice(
        id=501,
        client_id=client.id,
        status=InvoiceStatus.PAID if paid else InvoiceStatus.UNPAID,
        number=f"{sample.today.year}-000123",
        currency=sample.currency,
        issue_date=sample.today,
        due_date=sample.today + timedelta(days=10),
        subtotal=net,
        discount=D("0.00"),
        tax=tax,
        total=net + tax,
        amount_paid=net + tax if paid else D("0.00"),
        paid_date=sample.today if paid else None,
        notes="",
    )
    invoice.lines = [
        InvoiceLine(
            position=1,
            description=sample.product,
            details=[],
            quantity=D(1),
            unit_price=net,
            amount=net,
            net=net,
            tax_percent=D(22),
            tax=tax,
            total=net + tax,
            period_start=sample.today,
            period_end=sample.today + timedelta(days=30),
        )
    ]
    return invoice


def _service(sample: _Sample, client: Client) -> Service:
    return Service(
        id=42,
        client_id=client.id,
        status=ServiceStatus.ACTIVE,
        cycle="monthly",
        currency=sample.currency,
        registration_date=sample.today - timedelta(days=60),
        next_due_date=sample.today,
        recurring_amount=D("12500.00"),
        username="",
        product=Product(id=7, name=sample.product),
    )


def _order(sample: _Sample, client: Client) -> Order:
    order = Order(id=1234, client_id=client.id, currency=sample.currency, generate_invoice=True)
    order.client = client
    order.items = [OrderItem(position=0, description=sample.product, details=["2 CPU", "4 GB"])]
    return order


def _payment(sample: _Sample, client: Client) -> Payment:
    return Payment(
        id=77,
        client_id=client.id,
        method="bank",
        reference=sample.reference,
        payment_date=sample.today,
        currency=sample.currency,
        amount=D("15500.00"),
        description="",
    )


#: A sample value for each variable a template may get, built from the sample client. A
#: template with a variable missing here gets the text "[name]" in the preview.
SAMPLES: dict[str, Callable[[_Sample, Client], Any]] = {
    "invoice": lambda s, c: _invoice(s, c, paid=False),
    "invoices": lambda s, c: [_invoice(s, c, paid=True)],
    "order": _order,
    "payment": _payment,
    "to_credit": lambda s, c: D("250.00"),
    "service": _service,
    "login_link": lambda s, c: mail_templates.external_url("client_auth.login"),
    "reset_link": lambda s, c: mail_templates.external_url("client_auth.forgot_password"),
    "days": lambda s, c: 5,
    "days_left": lambda s, c: 3,
    "overdue": lambda s, c: True,
    "overdue_number": lambda s, c: f"{s.today.year}-000120",
    "invoice_link": lambda s, c: mail_templates.external_url(
        "client_billing.invoice_view", invoice_id=501
    ),
    "link": lambda s, c: mail_templates.external_url(
        "client_auth.reset_password",
        token="sample-token",  # noqa: S106 (a sample)
    ),
}


def sample_variables(name: str, locale: str) -> dict[str, Any]:
    """The variables of template ``name`` filled with sample objects (in memory, never saved)."""
    first, last, company, product, reference = _PEOPLE.get(locale, _PEOPLE["en"])
    sample = _Sample(
        today=today(),
        currency=current_app.config["PORTAL"]["default_currency"],
        product=product,
        reference=reference,
    )
    client = Client(
        id=1001,
        email="client@example.com",
        first_name=first,
        last_name=last,
        company=company,
        language=locale,
        currency=sample.currency,
    )
    variables: dict[str, Any] = {"client": client}
    for variable in TEMPLATES[name].variables:
        build = SAMPLES.get(variable)
        variables[variable] = build(sample, client) if build else f"[{variable}]"
    return variables


# --- staff actions ----------------------------------------------------------------------------


def preview(name: str, locale: str, subject: str, body: str) -> tuple[str, str]:
    """The draft rendered with sample data; raises ``MailTemplateError`` (with ``field``)."""
    return mail_templates.render_draft(locale, subject, body, sample_variables(name, locale))


def _snapshot(row: MailTemplate | None) -> dict[str, str] | None:
    return None if row is None else {"subject": row.subject, "body": row.body}


def save(name: str, locale: str, subject: str, body: str) -> MailTemplate:
    """Store staff's version of ``name`` in ``locale`` once it renders. Audited; commits."""
    preview(name, locale, subject, body)  # raises before anything changes
    row = mail_templates.edited(name, locale)
    before = _snapshot(row)
    if row is None:
        row = MailTemplate(name=name, locale=locale, created_at=clock().now())
        db.session.add(row)
    row.subject, row.body = subject.strip(), body
    db.session.flush()
    audit.record(
        "mail_template.save",
        "mail_template",
        row.id,
        before=before,
        after=_snapshot(row),
        note=f"{name} ({locale})",
    )
    db.session.commit()
    return row


def reset(name: str, locale: str) -> bool:
    """Go back to the built-in text of ``name`` in ``locale``; False if it was not edited.
    Audited; commits."""
    row = mail_templates.edited(name, locale)
    if row is None:
        return False
    audit.record(
        "mail_template.reset",
        "mail_template",
        row.id,
        before=_snapshot(row),
        note=f"{name} ({locale})",
    )
    db.session.delete(row)
    db.session.commit()
    return True
