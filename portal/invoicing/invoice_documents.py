"""Invoices as documents: the PDF and printable page of an issued invoice, and its e-mail.

The invoice rows already hold every figure (rounded once by ``portal.billing``); this module
lays them out with ``portal.billing.document_figures`` (one price basis per document: see
``docs/documents.md``) and maps them onto ``portal.documents`` data; it never rounds. A credit
note prints as a correction document (корректировочный счёт), never as a payment request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from portal import billing
from portal.accounts import audit
from portal.accounts.models import Client
from portal.core.extensions import db
from portal.documents.data import (
    ActDocument,
    CorrectionDocument,
    DocumentLine,
    InvoiceDocument,
    Party,
)
from portal.documents.render import (
    act_html,
    act_pdf,
    correction_html,
    correction_pdf,
    invoice_html,
    invoice_pdf,
)
from portal.invoicing.company import company_details
from portal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from portal.messaging import templates
from portal.messaging.models.outbox import OutboundMessage
from portal.messaging.outbox import Attachment, LetterToCompose


def _buyer(invoice: Invoice) -> Party:
    buyer = invoice.buyer
    name = buyer.get("company") or f"{buyer.get('first_name', '')} {buyer.get('last_name', '')}"
    address = ", ".join(
        part for part in (buyer.get("postcode"), buyer.get("city"), buyer.get("address")) if part
    )
    return Party(
        name=name.strip() or "—",
        inn=buyer.get("inn", ""),
        kpp=buyer.get("kpp", ""),
        address=address,
    )


def company_party(details: Mapping[str, str]) -> Party:
    """The provider as documents print it, from its details: an invoice's snapshot, or today's
    settings for a document signed today (the акт сверки)."""
    return Party(**{item.name: details.get(item.name, "") for item in dataclasses.fields(Party)})


def _seller(invoice: Invoice) -> Party:
    """The provider as it was when the invoice was issued (today's details for an invoice
    issued before they were kept on it)."""
    return company_party(invoice.seller or company_details())


def document_figures(invoice: Invoice) -> billing.DocumentFigures:
    """The printed figures of an invoice's lines (net, VAT, gross per line and in total, in one
    price basis): what the invoice pages, the documents, the e-mail and the CSV show."""
    return billing.document_figures(invoice.lines, invoice.currency)


def _document_lines(
    invoice: Invoice, figures: billing.DocumentFigures, language: str
) -> tuple[DocumentLine, ...]:
    return tuple(
        DocumentLine.printed(
            printed,
            line.description,
            line.unit or ("шт." if language == "ru" else "pcs"),
            line.details,
        )
        for line, printed in zip(invoice.lines, figures.lines, strict=True)
    )


def invoice_document(invoice: Invoice, language: str = "ru") -> InvoiceDocument:
    """The invoice for payment: its sum, what was paid (credit shown as such) and what is due."""
    if invoice.status is InvoiceStatus.DRAFT or invoice.number is None:
        raise ValueError("only issued invoices are documents")
    if invoice.kind is InvoiceKind.CREDIT_NOTE:
        raise ValueError("a credit note is a correction document")
    figures = document_figures(invoice)
    credit = billing.round_money(invoice.credit_applied, invoice.currency)
    paid = max(invoice.amount_paid - credit, billing.round_money(Decimal(0), invoice.currency))
    due = invoice.total - credit - paid
    return InvoiceDocument(
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        seller=_seller(invoice),
        buyer=_buyer(invoice),
        lines=_document_lines(invoice, figures, language),
        currency=invoice.currency,
        subtotal=figures.net,
        discount=invoice.discount,
        tax_total=figures.tax,
        total=figures.gross,
        credit_applied=credit,
        amount_paid=paid,
        amount_due=due,
        paid_date=invoice.paid_date if due == 0 else None,
        tax_inclusive=figures.basis is billing.PriceBasis.INCLUSIVE,
        language=language,
        notes=invoice.notes,
    )


def correction_document(invoice: Invoice, language: str = "ru") -> CorrectionDocument:
    """A credit note as the correction of the invoice it corrects: its negative lines printed
    as positive amounts of reduction, whatever its status."""
    if invoice.kind is not InvoiceKind.CREDIT_NOTE or invoice.number is None:
        raise ValueError("only issued credit notes are corrections")
    original = db.session.get(Invoice, invoice.corrects_id) if invoice.corrects_id else None
    figures = document_figures(invoice).negated()
    return CorrectionDocument(
        number=invoice.number,
        issue_date=invoice.issue_date,
        original_number=(original.number if original else None) or "—",
        original_date=(original.issue_date if original else None) or invoice.issue_date,
        seller=_seller(invoice),
        buyer=_buyer(invoice),
        lines=_document_lines(invoice, figures, language),
        currency=invoice.currency,
        tax_total=figures.tax,
        total=figures.gross,
        tax_inclusive=figures.basis is billing.PriceBasis.INCLUSIVE,
        language=language,
        notes=invoice.notes,
    )


def has_act(invoice: Invoice) -> bool:
    """An act is due for a paid invoice for services (not a top-up, not a credit note)."""
    return invoice.status is InvoiceStatus.PAID and invoice.kind is InvoiceKind.INVOICE


def act_document(invoice: Invoice, language: str = "ru") -> ActDocument:
    """The act of services rendered for a paid invoice: same number, the lines' whole period
    (first day to last day covered), dated the end of that period or the payment date."""
    if not has_act(invoice):
        raise ValueError("acts are made for paid service invoices")
    starts = [line.period_start for line in invoice.lines if line.period_start]
    ends = [line.period_end - timedelta(days=1) for line in invoice.lines if line.period_end]
    start = min(starts, default=invoice.issue_date)
    end = max(ends, default=invoice.paid_date or invoice.issue_date)
    act_date: date = max(end, invoice.paid_date or end)
    figures = document_figures(invoice)
    return ActDocument(
        number=invoice.number or "",
        act_date=act_date,
        period_start=start,
        period_end=end,
        seller=_seller(invoice),
        buyer=_buyer(invoice),
        lines=_document_lines(invoice, figures, language),
        currency=invoice.currency,
        total=figures.gross,
        tax_total=figures.tax,
        tax_inclusive=figures.basis is billing.PriceBasis.INCLUSIVE,
        language=language,
        invoice_number=invoice.number or "",
    )


def act_pdf_bytes(invoice: Invoice, language: str = "ru") -> bytes:
    return act_pdf(act_document(invoice, language))


def act_page(invoice: Invoice, language: str = "ru") -> str:
    return act_html(act_document(invoice, language))


def invoice_pdf_bytes(invoice: Invoice, language: str = "ru") -> bytes:
    """The PDF of an issued invoice; a credit note's is its correction document."""
    if invoice.kind is InvoiceKind.CREDIT_NOTE:
        return correction_pdf(correction_document(invoice, language))
    return invoice_pdf(invoice_document(invoice, language))


def invoice_page(invoice: Invoice, language: str = "ru") -> str:
    """The printable page of an issued invoice; a credit note's is its correction document."""
    if invoice.kind is InvoiceKind.CREDIT_NOTE:
        return correction_html(correction_document(invoice, language))
    return invoice_html(invoice_document(invoice, language))


def invoice_pdf_for_mail(invoice_id: int) -> bytes:
    """The PDF of an invoice in its client's language when its e-mail is delivered: the stored
    file, else rendered then (and stored)."""
    from portal.invoicing.stored_documents import INVOICE, stored_pdf

    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise LookupError(f"invoice #{invoice_id} does not exist")
    client = db.session.get(Client, invoice.client_id)
    return stored_pdf(invoice, INVOICE, templates.locale_of(client))


def _queue_invoice_mail(invoice: Invoice, dedupe_key: str | None) -> OutboundMessage:
    client = db.session.get(Client, invoice.client_id)
    return templates.send(
        "invoice_issued",
        client,
        dedupe_key=dedupe_key,
        attachments=[_pdf(invoice)],
        invoice=invoice,
    )


class IssuedInvoice(Protocol):
    """What the invoice mail needs to be queued: an ``Invoice``, or a row the billing run wrote."""

    @property
    def id(self) -> int: ...
    @property
    def client_id(self) -> int: ...
    @property
    def number(self) -> str | None: ...


def _pdf(invoice: IssuedInvoice) -> Attachment:
    return Attachment(f"invoice-{invoice.number}.pdf", "application/pdf", invoice_id=invoice.id)


def queue_invoice_emails(issued: Sequence[IssuedInvoice]) -> None:
    """Queue the ``invoice_issued`` mail of each invoice, PDF attached, in one statement in the
    caller's transaction (no commit).

    Each letter is composed and its PDF rendered when the outbox delivers it, in the client's
    language then (a billing run issuing 100 000 invoices renders nothing). Once per invoice: a
    run that runs twice sends it once.
    """
    letters = [
        LetterToCompose(
            invoice.client_id,
            {"invoice": invoice.id},
            dedupe_key=f"invoice-issued:{invoice.id}",
            attachments=[_pdf(invoice)],
        )
        for invoice in issued
    ]
    templates.send_composed_at_delivery("invoice_issued", letters)


def send_invoice(invoice: Invoice) -> None:
    """Staff send the invoice e-mail with its PDF to the client (and billing contacts), again
    each time they ask. Commits."""
    message = _queue_invoice_mail(invoice, None)
    audit.record(
        "invoice.send",
        "invoice",
        invoice.id,
        client_id=invoice.client_id,
        after={"to": message.recipients},
    )
    db.session.commit()
