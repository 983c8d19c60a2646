"""Invoices as documents: the PDF and printable page of an issued invoice, and its e-mail.

The invoice rows already hold every figure (rounded once by ``portal.billing``); this module
only maps them onto ``portal.documents`` data and never computes an amount itself.
"""

from __future__ import annotations

from decimal import Decimal

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.documents.data import DocumentLine, InvoiceDocument, Party
from portal.documents.render import invoice_html, invoice_pdf
from portal.extensions import db
from portal.mail.outbox import Attachment, queue_email
from portal.models import Client, Invoice, InvoiceStatus
from portal.models.payment import CreditEntry, CreditReason
from portal.services import audit
from portal.services.company import company_details


def _buyer(invoice: Invoice) -> Party:
    buyer = invoice.buyer
    name = buyer.get("company") or f"{buyer.get('first_name', '')} {buyer.get('last_name', '')}"
    address = ", ".join(
        part for part in (buyer.get("postcode"), buyer.get("city"), buyer.get("address")) if part
    )
    return Party(name=name.strip() or "—", inn=buyer.get("inn", ""), kpp=buyer.get("kpp", ""),
                 address=address)  # fmt: skip


def _seller() -> Party:
    details = company_details()
    return Party(**{key: details[key] for key in (
        "name", "inn", "kpp", "address", "bank_name", "bank_bic", "bank_account",
        "bank_corr_account", "signatory", "accountant")})  # fmt: skip


def invoice_document(invoice: Invoice, language: str = "ru") -> InvoiceDocument:
    if invoice.status is InvoiceStatus.DRAFT or invoice.number is None:
        raise ValueError("only issued invoices are documents")
    credit = -sum(
        (entry.amount for entry in db.session.query(CreditEntry).filter_by(
            invoice_id=invoice.id, reason=CreditReason.APPLIED)),
        Decimal(0),
    )  # fmt: skip
    lines = tuple(
        DocumentLine(
            description=line.description,
            quantity=line.quantity,
            unit=line.unit or ("шт." if language == "ru" else "pcs"),
            unit_price=line.unit_price,
            amount=line.amount,
            tax_percent=line.tax_percent,
            tax_amount=line.tax,
            details=tuple(line.details),
        )
        for line in invoice.lines
    )
    inclusive = any(line.tax_inclusive for line in invoice.lines)
    return InvoiceDocument(
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        seller=_seller(),
        buyer=_buyer(invoice),
        lines=lines,
        currency=invoice.currency,
        subtotal=invoice.subtotal,
        discount=invoice.discount,
        tax_total=invoice.tax,
        total=invoice.total,
        credit_applied=credit,
        amount_due=invoice.total - credit,
        tax_inclusive=inclusive,
        language=language,
        notes=invoice.notes,
    )


def invoice_pdf_bytes(invoice: Invoice, language: str = "ru") -> bytes:
    return invoice_pdf(invoice_document(invoice, language))


def invoice_page(invoice: Invoice, language: str = "ru") -> str:
    return invoice_html(invoice_document(invoice, language))


def send_invoice(invoice: Invoice) -> None:
    """Queue the invoice e-mail with its PDF to the client (and billing contacts). Commits."""
    from portal.models.contact import MailKind
    from portal.services.contacts import recipients

    client = db.session.get(Client, invoice.client_id)
    language = client.language or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(language):
        subject = _("Invoice %(number)s", number=invoice.number)
        text = render_template("mail/invoice.txt", invoice=invoice, client=client)
    to, *cc = recipients(client, MailKind.INVOICES)
    queue_email(
        to=to,
        cc=cc,
        subject=subject,
        text=text,
        attachments=[Attachment(f"invoice-{invoice.number}.pdf", "application/pdf",
                                invoice_pdf_bytes(invoice, language))],
        client_id=client.id,
    )  # fmt: skip
    audit.record("invoice.send", "invoice", invoice.id, client_id=client.id,
                 after={"to": [to, *cc]})  # fmt: skip
    db.session.commit()
