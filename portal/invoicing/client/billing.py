"""Client-area billing: my invoices (view, PDF, pay from credit, bank details), transactions,
adding funds, my statement of account and the reconciliation statement. Every query is scoped
to the signed-in client; others' invoices are 404."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from portal import billing
from portal.billing import BillingError
from portal.billing.amounts import parse_amount
from portal.core.clock import today
from portal.core.extensions import db
from portal.invoicing import (
    account_statements,
    credit_notes,
    invoice_attachments,
    invoice_documents,
    invoices,
    payments,
    stored_documents,
)
from portal.invoicing.forms import StatementForm
from portal.invoicing.gateways import gateways
from portal.invoicing.models import CreditEntry, Invoice, InvoiceKind, InvoiceStatus, Payment
from portal.invoicing.models.invoice import CREDIT_NOTE_SETTLEMENT_LABELS, INVOICE_STATUS_LABELS
from portal.web.downloads import download, pdf_response
from portal.web.formatting import labels_once, money
from portal.web.identity import Area
from portal.web.paging import keyset_page

client_billing = Blueprint("client_billing", __name__)
client_billing.portal_area = Area.CLIENT  # type: ignore[attr-defined]

MIN_TOP_UP = Decimal("100")


#: Invoices a client never sees (see _shown).
HIDDEN_FROM_CLIENTS = (InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED)


def _my_invoice(invoice_id: int) -> Invoice:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.client_id != current_user.id or not _shown(invoice):
        abort(404)  # see _shown
    return invoice


def _shown(invoice: Invoice) -> bool:
    """Only issued documents the client has to do with reach them: never a draft, nor a
    cancelled invoice (a draft cancelled before it got a number would read "Invoice None" and
    have no document; a cancelled issued one is owed by nobody). Staff still see both."""
    return invoice.number is not None and invoice.status not in HIDDEN_FROM_CLIENTS


@client_billing.route("/invoices")
def invoice_list() -> str:
    """The client's invoices to pay or paid, and apart from them the credit notes (corrections,
    never payable) with the invoice each corrects; each list paged by issue date
    (docs/performance.md), a client with 2 000 invoices reads 50 of them."""
    mine = select(Invoice).where(
        Invoice.client_id == current_user.id,
        Invoice.number.is_not(None),  # see _shown
        Invoice.status.not_in(HIDDEN_FROM_CLIENTS),
    )
    rows = keyset_page(
        mine.where(Invoice.kind != InvoiceKind.CREDIT_NOTE),
        sort=Invoice.issue_date,
        id_column=Invoice.id,
    )
    notes = keyset_page(
        mine.where(Invoice.kind == InvoiceKind.CREDIT_NOTE),
        sort=Invoice.issue_date,
        id_column=Invoice.id,
        prefix="notes_",
    )
    corrects = {note.corrects_id for note in notes if note.corrects_id}
    numbers = dict(  # always one query, credit notes or not (tests/web/test_list_queries.py)
        db.session.execute(
            select(Invoice.id, Invoice.number).where(
                Invoice.id.in_(corrects), Invoice.client_id == current_user.id
            )
        ).all()
    )
    return render_template(
        "client/billing/invoices.html",
        invoices=rows,
        credit_notes=notes,
        corrected={note.id: numbers.get(note.corrects_id) for note in notes},
        labels=labels_once(INVOICE_STATUS_LABELS),
        settlement_labels=labels_once(CREDIT_NOTE_SETTLEMENT_LABELS),
    )


@client_billing.route("/invoices/<int:invoice_id>")
def invoice_view(invoice_id: int) -> str:
    invoice = _my_invoice(invoice_id)
    figures = invoice_documents.document_figures(invoice)
    is_note = invoice.kind is InvoiceKind.CREDIT_NOTE
    return render_template(
        "client/billing/invoice.html",
        invoice=invoice,
        figures=figures,
        lines=list(zip(invoice.lines, figures.lines, strict=True)),
        labels=INVOICE_STATUS_LABELS,
        credit=payments.credit_balance(current_user.id, invoice.currency),
        gateways=list(gateways().values()),
        payable=invoice.status in payments.PAYABLE,
        is_note=is_note,
        corrected=db.session.get(Invoice, invoice.corrects_id) if is_note else None,
        credit_notes=[] if is_note else credit_notes.notes_of(invoice),
        settlement_labels=CREDIT_NOTE_SETTLEMENT_LABELS,
        payments_made=payments.invoice_payments(invoice.id),
        attachments=invoice_attachments.attachments_of(invoice),
    )


@client_billing.route("/invoices/<int:invoice_id>/attachments/<name>")
def invoice_attachment(invoice_id: int, name: str) -> Response:
    """A plugin's document of the client's own invoice (docs/hooks.md, ``invoice_attachments``),
    rendered now in the client's language; another client's invoice is a 404."""
    found = invoice_attachments.attachment_named(_my_invoice(invoice_id), name)
    if found is None:
        abort(404)
    return download(found.render(), found.filename, found.content_type, inline=found.inline)


@client_billing.route("/invoices/<int:invoice_id>/pdf")
def invoice_pdf(invoice_id: int) -> Response:
    invoice = _my_invoice(invoice_id)
    language = "en" if request.args.get("lang") == "en" else "ru"
    return pdf_response(
        stored_documents.stored_pdf(invoice, stored_documents.INVOICE, language),
        f"invoice-{invoice.number}.pdf",
    )


@client_billing.route("/invoices/<int:invoice_id>/print")
def invoice_print(invoice_id: int) -> str:
    return invoice_documents.invoice_page(_my_invoice(invoice_id), request.args.get("lang", "ru"))


@client_billing.route("/invoices/<int:invoice_id>/pay-from-credit", methods=["POST"])
def pay_from_credit(invoice_id: int) -> WerkzeugResponse:
    invoice = _my_invoice(invoice_id)
    try:
        applied = payments.apply_credit(invoice)
    except payments.PaymentError as exc:
        flash(str(exc), "danger")
    else:
        flash(
            _("%(amount)s paid from your credit balance.", amount=money(applied, invoice.currency)),
            "success",
        )
    return redirect(url_for("client_billing.invoice_view", invoice_id=invoice_id))


@client_billing.route("/transactions")
def transactions() -> str:
    """Payments and credit balance movements, each list paged newest first."""
    mine = current_user.id
    rows = keyset_page(
        select(Payment).where(Payment.client_id == mine),
        sort=Payment.payment_date,
        id_column=Payment.id,
    )
    credit_rows = keyset_page(
        select(CreditEntry).where(CreditEntry.client_id == mine),
        id_column=CreditEntry.id,
        prefix="credit_",
    )
    return render_template(
        "client/billing/transactions.html",
        payments=rows,
        credit_entries=credit_rows,
        credit=payments.credit_balance(mine, current_user.currency),
    )


@client_billing.route("/add-funds", methods=["GET", "POST"])
def add_funds() -> WerkzeugResponse | str:
    """A top-up invoice: paid like any other, its amount becomes credit balance."""
    if request.method == "POST":
        try:
            amount = billing.check_minor_units(
                parse_amount(request.form.get("amount", ""), places=2), current_user.currency
            )
        except (ValueError, BillingError):
            flash(_("Enter an amount in roubles and kopecks, e.g. 5000 or 5000.50."), "danger")
            return render_template("client/billing/add_funds.html", minimum=MIN_TOP_UP), 400
        if amount < MIN_TOP_UP:
            flash(
                _(
                    "The smallest top-up is %(amount)s.",
                    amount=money(MIN_TOP_UP, current_user.currency),
                ),
                "danger",
            )
            return render_template("client/billing/add_funds.html", minimum=MIN_TOP_UP), 400
        invoice = invoices.issue_top_up(current_user._get_current_object(), amount)
        return redirect(url_for("client_billing.invoice_view", invoice_id=invoice.id))
    return render_template("client/billing/add_funds.html", minimum=MIN_TOP_UP)


__all__ = ["client_billing"]


@client_billing.route("/documents")
def documents() -> str:
    """Closing documents: an act for every paid service invoice, without having to ask; paged
    by payment date (a paid invoice always has one)."""
    paid = keyset_page(
        select(Invoice).where(
            Invoice.client_id == current_user.id,
            Invoice.status == InvoiceStatus.PAID,
            Invoice.kind == InvoiceKind.INVOICE,
        ),
        sort=Invoice.paid_date,
        id_column=Invoice.id,
    )
    return render_template("client/billing/documents.html", invoices=paid)


@client_billing.route("/documents/<int:invoice_id>/act.pdf")
def act_pdf(invoice_id: int) -> Response:
    invoice = _my_invoice(invoice_id)
    if not invoice_documents.has_act(invoice):
        abort(404)
    language = "en" if request.args.get("lang") == "en" else "ru"
    return pdf_response(
        stored_documents.stored_pdf(invoice, stored_documents.ACT, language),
        f"act-{invoice.number}.pdf",
    )


@client_billing.route("/statement")
@client_billing.route("/statement.csv", endpoint="statement_csv", defaults={"as_": "csv"})
@client_billing.route("/reconciliation.pdf", endpoint="reconciliation_pdf", defaults={"as_": "pdf"})
def statement(as_: str = "page") -> Response | tuple[str, int]:
    """My statement of account for a period, and the акт сверки to sign, without asking
    support; always the signed-in client's own."""
    me = current_user._get_current_object()
    form = StatementForm(request.args)
    period = form.period(today())
    if period is not None and as_ != "page":
        return account_statements.download(me, *period, as_, request.args.get("lang"))
    result = account_statements.statement(me, *period) if period else None
    page = render_template(
        "client/billing/statement.html",
        form=form,
        result=result,
        row_label=account_statements.row_label,
    )
    return page, (200 if period else 400)
