"""What the mail layer needs from invoicing: invoices by id for letters composed at delivery, the
invoice PDF rendered then, and sample invoices and payments for the template editor.

Registered by ``portal.invoicing.register`` (messaging never imports this area; see
``portal.messaging.sources``).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import Flask

from portal.core.extensions import db
from portal.invoicing.invoice_attachments import attachments_for_mail
from portal.invoicing.invoice_documents import invoice_pdf_for_mail
from portal.invoicing.models.invoice import Invoice, InvoiceLine, InvoiceStatus
from portal.invoicing.models.payment import Payment
from portal.messaging.sources import (
    Sample,
    register_companions,
    register_document,
    register_template_fields,
    register_variable,
)

D = Decimal


def sample_invoice(sample: Sample, *, paid: bool) -> Invoice:
    """An invoice of the preview's client (in memory, never added to the session)."""
    net, tax = D("12500.00"), D("2750.00")
    invoice = Invoice(
        id=501,
        client_id=sample.client.id,
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


def sample_payment(sample: Sample) -> Payment:
    """A payment of the preview's client (in memory)."""
    return Payment(
        id=77,
        client_id=sample.client.id,
        method="bank",
        reference=sample.reference,
        payment_date=sample.today,
        currency=sample.currency,
        amount=D("15500.00"),
        description="",
    )


def register_mail_sources(app: Flask) -> None:
    """Tell messaging what it needs of this area (called by ``portal.invoicing.register``)."""
    register_variable(
        app,
        "invoice",
        load=lambda invoice_id: db.session.get(Invoice, invoice_id),
        sample=lambda sample: sample_invoice(sample, paid=False),
    )
    register_variable(app, "invoices", sample=lambda sample: [sample_invoice(sample, paid=True)])
    register_variable(app, "payment", sample=sample_payment)
    register_document(app, "invoice", invoice_pdf_for_mail)
    register_companions(app, "invoice", attachments_for_mail)
    register_template_fields(app, Invoice, INVOICE_FIELDS)
    register_template_fields(app, InvoiceLine, LINE_FIELDS)
    register_template_fields(app, Payment, PAYMENT_FIELDS)


#: What a staff-edited e-mail template may read of invoices, their lines and payments
#: (docs/automation.md, "E-mail templates").
INVOICE_FIELDS = (
    "id",
    "number",
    "kind",
    "status",
    "currency",
    "issue_date",
    "due_date",
    "subtotal",
    "tax",
    "total",
    "amount_paid",
    "credit_applied",
    "balance",
    "lines",
)
LINE_FIELDS = ("description", "details", "quantity", "unit_price", "amount")
PAYMENT_FIELDS = ("id", "amount", "currency", "payment_date", "reference", "method")
