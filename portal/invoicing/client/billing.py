"""Client-area billing: my invoices (view, PDF, pay from credit, bank details), transactions,
adding funds. Every query is scoped to the signed-in client; others' invoices are 404."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from portal import billing
from portal.billing import BillingError
from portal.core.extensions import db
from portal.invoicing import invoice_documents, invoices, payments
from portal.invoicing.gateways import gateways
from portal.invoicing.models import CreditEntry, Invoice, InvoiceKind, InvoiceStatus, Payment
from portal.invoicing.models.invoice import INVOICE_STATUS_LABELS
from portal.web.formatting import money
from portal.web.identity import Area

client_billing = Blueprint("client_billing", __name__)
client_billing.portal_area = Area.CLIENT  # type: ignore[attr-defined]

MIN_TOP_UP = Decimal("100")


def _my_invoice(invoice_id: int) -> Invoice:
    invoice = db.session.get(Invoice, invoice_id)
    if (
        invoice is None
        or invoice.client_id != current_user.id
        or invoice.status is InvoiceStatus.DRAFT
    ):
        abort(404)  # drafts are not the client's business until issued
    return invoice


@client_billing.route("/invoices")
def invoice_list() -> str:
    rows = db.session.scalars(
        select(Invoice)
        .where(Invoice.client_id == current_user.id, Invoice.status != InvoiceStatus.DRAFT)
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
    ).all()
    return render_template(
        "client/billing/invoices.html", invoices=rows, labels=INVOICE_STATUS_LABELS
    )


@client_billing.route("/invoices/<int:invoice_id>")
def invoice_view(invoice_id: int) -> str:
    invoice = _my_invoice(invoice_id)
    return render_template(
        "client/billing/invoice.html",
        invoice=invoice,
        labels=INVOICE_STATUS_LABELS,
        credit=payments.credit_balance(current_user.id, invoice.currency),
        gateways=list(gateways().values()),
        payable=invoice.status in payments.PAYABLE,
    )


@client_billing.route("/invoices/<int:invoice_id>/pdf")
def invoice_pdf(invoice_id: int) -> Response:
    invoice = _my_invoice(invoice_id)
    language = "en" if request.args.get("lang") == "en" else "ru"
    return Response(
        invoice_documents.invoice_pdf_bytes(invoice, language),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="invoice-{invoice.number}.pdf"'},
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
    mine = current_user.id
    rows = db.session.scalars(
        select(Payment).where(Payment.client_id == mine).order_by(Payment.payment_date.desc())
    ).all()
    credit_rows = db.session.scalars(
        select(CreditEntry).where(CreditEntry.client_id == mine).order_by(CreditEntry.id.desc())
    ).all()
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
        raw = request.form.get("amount", "").replace(",", ".").replace(" ", "")
        try:
            amount = billing.check_minor_units(Decimal(raw), current_user.currency)
        except (InvalidOperation, BillingError):
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
    """Closing documents: an act for every paid service invoice, without having to ask."""
    paid = db.session.scalars(
        select(Invoice)
        .where(
            Invoice.client_id == current_user.id,
            Invoice.status == InvoiceStatus.PAID,
            Invoice.kind == InvoiceKind.INVOICE,
        )
        .order_by(Invoice.paid_date.desc(), Invoice.id.desc())
    ).all()
    return render_template("client/billing/documents.html", invoices=paid)


@client_billing.route("/documents/<int:invoice_id>/act.pdf")
def act_pdf(invoice_id: int) -> Response:
    invoice = _my_invoice(invoice_id)
    if not invoice_documents.has_act(invoice):
        abort(404)
    language = "en" if request.args.get("lang") == "en" else "ru"
    return Response(
        invoice_documents.act_pdf_bytes(invoice, language),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="act-{invoice.number}.pdf"'},
    )
