"""Billing in the admin area: invoices (drafts, issue, cancel, credit notes, PDF, e-mail),
payments (record, mass pay, refund), statements of account, and the provider's details."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as WerkzeugResponse

from portal import billing
from portal.accounts.clients import ClientError
from portal.accounts.models import Client
from portal.accounts.models.permissions import Permission
from portal.billing import BillingError
from portal.catalog import catalog
from portal.core.clock import today as _today
from portal.core.extensions import db
from portal.invoicing import (
    account_statements,
    credit_notes,
    dunning,
    invoice_attachments,
    invoice_documents,
    invoices,
    payments,
    stored_documents,
)
from portal.invoicing.company import company_details, save_company_details
from portal.invoicing.forms import (
    TAX_NONE,
    TAX_RATE,
    CompanyForm,
    CreditNoteForm,
    DraftLineForm,
    MassPaymentForm,
    NewInvoiceForm,
    PaymentForm,
    RefundForm,
    StatementForm,
)
from portal.invoicing.gateways import method_label
from portal.invoicing.models import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
)
from portal.invoicing.models.invoice import CREDIT_NOTE_SETTLEMENT_LABELS, INVOICE_STATUS_LABELS
from portal.platform import runtime_settings, search
from portal.web.csv_export import csv_response
from portal.web.downloads import download, pdf_response
from portal.web.formatting import labels_once, money
from portal.web.identity import Area
from portal.web.paging import keyset_page
from portal.web.permissions import requires
from portal.web.query_args import id_arg

admin_billing = Blueprint("admin_billing", __name__, url_prefix="/admin/billing")
admin_billing.portal_area = Area.ADMIN  # type: ignore[attr-defined]


def _invoice_or_404(invoice_id: int) -> Invoice:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        abort(404)
    return invoice


def _invoice_action(invoice_id: int, action: Callable[[Invoice], object]) -> WerkzeugResponse:
    """Apply a state change to an invoice; a refusal is shown, then back to the invoice."""
    try:
        action(_invoice_or_404(invoice_id))
    except (BillingError, invoices.InvoiceError, payments.PaymentError) as exc:
        db.session.rollback()
        _problem(exc)
    return redirect(url_for("admin_billing.invoice_view", invoice_id=invoice_id))


def _problem(exc: Exception) -> None:
    message = catalog.billing_message(exc) if isinstance(exc, BillingError) else str(exc)
    flash(message, "danger")


@admin_billing.route("/invoices")
@admin_billing.route("/invoices/overdue", endpoint="overdue_invoices", defaults={"overdue": True})
@requires(Permission.BILLING_VIEW)
def invoice_list(overdue: bool = False) -> WerkzeugResponse | str:
    stmt = select(Invoice)
    status = "overdue" if overdue else request.args.get("status", "")
    if status == "overdue":
        stmt = stmt.where(
            Invoice.status.in_((InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID)),
            Invoice.due_date < _today(),
        )
    elif status in {s.value for s in InvoiceStatus}:
        stmt = stmt.where(Invoice.status == InvoiceStatus(status))
    search_text = search.from_args(request.args)
    if search_text or search_text.problem:
        stmt = stmt.where(search.invoice_condition(search_text))
    if request.args.get("format") == "csv":
        return _invoices_csv(stmt.order_by(Invoice.id.desc()))
    page = keyset_page(stmt, id_column=Invoice.id)
    args = {key: value for key, value in request.args.items() if key != "page"}
    return render_template(
        "admin/billing/invoices.html",
        page=page,
        args=args,
        labels=labels_once(INVOICE_STATUS_LABELS),
        today=_today(),
    )


def _invoices_csv(stmt: Select[tuple[Invoice]]) -> Response:
    """The list as CSV, with net, VAT and gross as the documents print them."""

    def row(invoice: Invoice) -> tuple[object, ...]:
        figures = invoice_documents.document_figures(invoice)
        return (
            invoice.number or "",
            invoice.client_id,
            invoice.issue_date,
            invoice.due_date,
            figures.net,
            figures.tax,
            figures.gross,
            billing.round_money(invoice.amount_paid, invoice.currency),  # 500.0000 -> 500.00
            INVOICE_STATUS_LABELS[invoice.status],
        )

    return csv_response(
        "invoices.csv",
        [
            _("Number"),
            _("Client ID"),
            _("Issued"),
            _("Due"),
            _("Net"),
            _("VAT"),
            _("Total"),
            _("Paid"),
            _("Status"),
        ],
        (row(invoice) for invoice in db.session.scalars(stmt.options(selectinload(Invoice.lines)))),
    )


@admin_billing.route("/invoices/new", methods=["GET", "POST"])
@requires(Permission.BILLING_MANAGE)
def invoice_new() -> WerkzeugResponse | str:
    form = NewInvoiceForm(client_id=id_arg("client_id"))
    if form.validate_on_submit():
        client = db.session.get(Client, form.client_id.data)
        if client is None:
            form.client_id.errors = [_("There is no client #%(id)s.", id=form.client_id.data)]
        else:
            draft = invoices.open_draft(client)
            return redirect(url_for("admin_billing.invoice_view", invoice_id=draft.id))
    return render_template("admin/billing/invoice_new.html", form=form)


@admin_billing.route("/invoices/<int:invoice_id>")
@requires(Permission.BILLING_VIEW)
def invoice_view(invoice_id: int) -> str:
    return _invoice_page(_invoice_or_404(invoice_id))


def _payment_form(invoice: Invoice) -> PaymentForm:
    """The "record payment" form, its amount the balance due (what a payment order for this
    invoice usually says); staff change it for a partial payment."""
    due = billing.round_money(invoice.balance, invoice.currency)
    payable = invoice.status in payments.PAYABLE and due > 0
    return PaymentForm(payment_date=_today(), amount=due if payable else None)


def _invoice_page(
    invoice: Invoice,
    credit_note_form: CreditNoteForm | None = None,
    payment_form: PaymentForm | None = None,
) -> str:
    """The invoice page; for a credit note also the invoice it corrects and how it was settled,
    for an invoice the credit notes against it and what is left to correct."""
    client = db.session.get(Client, invoice.client_id)
    figures = invoice_documents.document_figures(invoice)
    is_note = invoice.kind is InvoiceKind.CREDIT_NOTE
    notes = [] if is_note else credit_notes.notes_of(invoice)
    return render_template(
        "admin/billing/invoice.html",
        invoice=invoice,
        figures=figures,
        lines=list(zip(invoice.lines, figures.lines, strict=True)),
        client=client,
        labels=INVOICE_STATUS_LABELS,
        line_form=DraftLineForm(),
        payment_form=payment_form or _payment_form(invoice),
        credit_note_form=credit_note_form or CreditNoteForm(),
        payments_made=payments.invoice_payments(invoice.id),
        credit=payments.credit_balance(invoice.client_id, invoice.currency),
        overdue=invoice.is_overdue(_today()),
        dunning=dunning.invoice_dunning(invoice),
        is_note=is_note,
        corrected=db.session.get(Invoice, invoice.corrects_id) if invoice.corrects_id else None,
        note_refund=db.session.scalar(select(Payment).where(Payment.credit_note_id == invoice.id))
        if is_note
        else None,
        credit_notes=notes,
        correctable=None
        if is_note or invoice.status not in credit_notes.CORRECTABLE
        else credit_notes.correctable(invoice, notes),
        settlement_labels=CREDIT_NOTE_SETTLEMENT_LABELS,
        attachments=invoice_attachments.attachments_of(invoice),
    )


@admin_billing.route("/invoices/<int:invoice_id>/attachments/<name>")
@requires(Permission.BILLING_VIEW)
def invoice_attachment(invoice_id: int, name: str) -> Response:
    """A plugin's document of an issued invoice (docs/hooks.md, ``invoice_attachments``)."""
    found = invoice_attachments.attachment_named(_invoice_or_404(invoice_id), name)
    if found is None:
        abort(404)
    return download(found.render(), found.filename, found.content_type, inline=found.inline)


@admin_billing.route("/invoices/<int:invoice_id>/lines", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def invoice_add_line(invoice_id: int) -> WerkzeugResponse:
    invoice = _invoice_or_404(invoice_id)
    form = DraftLineForm()
    if not form.validate():
        for field, errors in form.errors.items():
            flash(f"{getattr(form, field).label.text}: {'; '.join(map(str, errors))}", "danger")
        return redirect(url_for("admin_billing.invoice_view", invoice_id=invoice_id))
    try:
        period = None
        if form.period_start.data and form.period_end.data:
            period = billing.Period(
                form.period_start.data, form.period_end.data + timedelta(days=1)
            )
        tax: billing.LineTax | None = None  # the client's rate
        if form.tax_mode.data == TAX_NONE:
            tax = billing.NO_TAX
        elif form.tax_mode.data == TAX_RATE:
            tax = billing.LineTax(form.tax_percent.data, inclusive=form.tax_inclusive.data)
        invoices.add_manual_line(
            invoice,
            form.description.data,
            form.unit_price.data,
            form.quantity.data,
            period=period,
            line_tax=tax,
            inclusive=form.tax_inclusive.data,
        )
    except (BillingError, invoices.InvoiceError) as exc:
        _problem(exc)
    return redirect(url_for("admin_billing.invoice_view", invoice_id=invoice_id))


@admin_billing.route("/invoices/<int:invoice_id>/lines/<int:line_id>/delete", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def invoice_remove_line(invoice_id: int, line_id: int) -> WerkzeugResponse:
    return _invoice_action(invoice_id, lambda invoice: invoices.remove_line(invoice, line_id))


@admin_billing.route("/invoices/<int:invoice_id>/issue", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def invoice_issue(invoice_id: int) -> WerkzeugResponse:
    invoice = _invoice_or_404(invoice_id)
    try:
        invoices.issue_invoice(invoice, today=_today())
    except invoices.InvoiceError as exc:
        db.session.rollback()
        _problem(exc)
    else:
        flash(_("Invoice %(number)s issued.", number=invoice.number), "success")
        if request.form.get("send"):
            invoice_documents.send_invoice(invoice)
            flash(_("The invoice has been queued for sending by e-mail."), "info")
    return redirect(url_for("admin_billing.invoice_view", invoice_id=invoice_id))


@admin_billing.route("/invoices/<int:invoice_id>/send", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def invoice_send(invoice_id: int) -> WerkzeugResponse:
    invoice = _invoice_or_404(invoice_id)
    if invoice.status is InvoiceStatus.DRAFT:
        flash(_("A draft is never sent: issue it first."), "danger")
    elif invoice.kind is InvoiceKind.CREDIT_NOTE:
        # the correction document, worded as one (mail/invoice.txt), for the client's books
        invoice_documents.send_invoice(invoice)
        flash(_("The credit note has been queued for sending by e-mail."), "info")
    else:
        invoice_documents.send_invoice(invoice)
        flash(_("The invoice has been queued for sending by e-mail."), "info")
    return redirect(url_for("admin_billing.invoice_view", invoice_id=invoice_id))


@admin_billing.route("/invoices/<int:invoice_id>/cancel", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def invoice_cancel(invoice_id: int) -> WerkzeugResponse:
    return _invoice_action(invoice_id, invoices.cancel_invoice)


@admin_billing.route("/invoices/<int:invoice_id>/credit-note", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def invoice_credit_note(invoice_id: int) -> WerkzeugResponse | tuple[str, int]:
    """Issue a credit note against the invoice, settled as staff chose; a refusal is shown on
    the invoice page with what was typed kept."""
    invoice = _invoice_or_404(invoice_id)
    form = CreditNoteForm()
    if form.validate():
        try:
            note = credit_notes.issue_credit_note(
                invoice,
                form.amount.data,
                form.reason.data,
                today=_today(),
                settlement=form.settlement.data,
                refund_method=form.refund_method.data or "bank",
                refund_reference=form.refund_reference.data or "",
            )
        except (BillingError, invoices.InvoiceError) as exc:
            db.session.rollback()
            form.amount.errors = [
                catalog.billing_message(exc) if isinstance(exc, BillingError) else str(exc)
            ]
        else:
            flash(_("Credit note %(number)s issued.", number=note.number), "success")
            return redirect(url_for("admin_billing.invoice_view", invoice_id=note.id))
    return _invoice_page(_invoice_or_404(invoice_id), credit_note_form=form), 400


@admin_billing.route("/invoices/<int:invoice_id>/payments", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def invoice_record_payment(invoice_id: int) -> WerkzeugResponse | tuple[str, int]:
    invoice = _invoice_or_404(invoice_id)
    form = PaymentForm()
    if not form.validate():
        flash(_("Enter the amount, the date and the payment order number."), "danger")
        return _invoice_page(invoice, payment_form=form), 400
    client = db.session.get(Client, invoice.client_id)
    try:
        payment = payments.record_payment(
            client,
            amount=form.amount.data,
            method=form.method.data,
            reference=form.payment_reference(),
            payment_date=form.payment_date.data,
            invoices=[invoice],
            currency=invoice.currency,
            description=form.description.data or "",
        )
    except (BillingError, payments.PaymentError) as exc:
        db.session.rollback()
        _problem(exc)
    else:
        _recorded(payment)
    return redirect(url_for("admin_billing.invoice_view", invoice_id=invoice_id))


def _recorded(payment: Payment) -> None:
    """Say what recording a payment did: a payment order recorded before (imported from a
    statement, typed by someone else) is not recorded again."""
    if payment.recorded_now:
        flash(_("Payment recorded."), "success")
    else:
        flash(
            _(
                "This payment is already recorded as payment #%(id)s (%(reference)s); "
                "nothing was recorded again.",
                id=payment.id,
                reference=payment.reference,
            ),
            "warning",
        )


@admin_billing.route("/invoices/<int:invoice_id>/apply-credit", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def invoice_apply_credit(invoice_id: int) -> WerkzeugResponse:
    def apply(invoice: Invoice) -> None:
        applied = payments.apply_credit(invoice)
        flash(
            _("%(amount)s of credit applied.", amount=money(applied, invoice.currency)), "success"
        )

    return _invoice_action(invoice_id, apply)


@admin_billing.route("/invoices/<int:invoice_id>/pdf")
@requires(Permission.BILLING_VIEW)
def invoice_pdf(invoice_id: int) -> Response:
    invoice = _invoice_or_404(invoice_id)
    if invoice.status is InvoiceStatus.DRAFT:
        abort(404)
    language = request.args.get("lang", "ru")
    pdf = stored_documents.stored_pdf(
        invoice, stored_documents.INVOICE, "en" if language == "en" else "ru"
    )
    return pdf_response(pdf, f"invoice-{invoice.number}.pdf")


@admin_billing.route("/invoices/<int:invoice_id>/print")
@requires(Permission.BILLING_VIEW)
def invoice_print(invoice_id: int) -> str:
    invoice = _invoice_or_404(invoice_id)
    if invoice.status is InvoiceStatus.DRAFT:
        abort(404)
    return invoice_documents.invoice_page(invoice, request.args.get("lang", "ru"))


@admin_billing.route("/payments")
@requires(Permission.BILLING_VIEW)
def payment_list() -> WerkzeugResponse | str:
    stmt = select(Payment)
    if request.args.get("format") == "csv":
        stmt = stmt.order_by(Payment.payment_date.desc(), Payment.id.desc())
        return csv_response(
            "payments.csv",
            [_("Date"), _("Client ID"), _("Method"), _("Reference"), _("Amount"), _("Refunded")],
            (
                (
                    p.payment_date,
                    p.client_id,
                    method_label(p.method),
                    p.reference,
                    p.amount,
                    p.refunded,
                )
                for p in db.session.scalars(stmt)
            ),
        )
    page = keyset_page(stmt, sort=Payment.payment_date, id_column=Payment.id)
    return render_template("admin/billing/payments.html", page=page, refund_form=RefundForm())


@admin_billing.route("/payments/<int:payment_id>/refund", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def payment_refund(payment_id: int) -> WerkzeugResponse:
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        abort(404)
    form = RefundForm()
    if form.validate():
        try:
            payments.refund(
                payment,
                form.amount.data,
                to_credit=form.to_credit.data,
                reference=form.reference.data or "",
            )
        except (BillingError, payments.PaymentError) as exc:
            db.session.rollback()
            _problem(exc)
        else:
            flash(_("Refund recorded."), "success")
    return redirect(url_for("admin_billing.payment_list"))


@admin_billing.route("/clients/<int:client_id>/mass-payment", methods=["GET", "POST"])
@requires(Permission.BILLING_MANAGE)
def mass_payment(client_id: int) -> WerkzeugResponse | str:
    """One payment order that pays several invoices (oldest first, as ticked)."""
    client = db.session.get(Client, client_id)
    if client is None:
        abort(404)
    open_invoices = db.session.scalars(
        select(Invoice)
        .where(Invoice.client_id == client_id, Invoice.status.in_(payments.PAYABLE))
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    # Prefilled as a payment for everything due: every invoice ticked, the amount their balances
    # (when they are in one currency; otherwise staff type what the payment order says).
    currencies = {i.currency for i in open_invoices}
    due = (
        billing.round_money(sum((i.balance for i in open_invoices), Decimal(0)), currencies.pop())
        if len(currencies) == 1
        else None
    )
    form = MassPaymentForm(
        payment_date=_today(), amount=due, invoices=[i.id for i in open_invoices]
    )
    form.invoices.choices = [
        (i.id, f"{i.number} — {money(i.balance, i.currency)}") for i in open_invoices
    ]
    if form.validate_on_submit():
        chosen = [i for i in open_invoices if i.id in form.invoices.data]
        try:
            payment = payments.record_payment(
                client,
                amount=form.amount.data,
                method=form.method.data,
                reference=form.payment_reference(),
                payment_date=form.payment_date.data,
                invoices=chosen,
                description=form.description.data or "",
            )
        except (BillingError, payments.PaymentError) as exc:
            db.session.rollback()
            _problem(exc)
        else:
            _recorded(payment)
            return redirect(url_for("admin_clients.summary", client_id=client_id))
    return render_template("admin/billing/mass_payment.html", form=form, client=client)


@admin_billing.route("/clients/<int:client_id>/statement")
@admin_billing.route(
    "/clients/<int:client_id>/statement.csv",
    endpoint="client_statement_csv",
    defaults={"as_": "csv"},
)
@admin_billing.route(
    "/clients/<int:client_id>/reconciliation.pdf",
    endpoint="client_reconciliation_pdf",
    defaults={"as_": "pdf"},
)
@requires(Permission.BILLING_VIEW)
def client_statement(client_id: int, as_: str = "page") -> WerkzeugResponse | tuple[str, int]:
    """The statement of account for a period: a page, a CSV, or the акт сверки PDF."""
    client = db.session.get(Client, client_id)
    if client is None:
        abort(404)
    form = StatementForm(request.args)
    period = form.period(_today())
    if request.args.get("format") == "csv":
        as_ = "csv"  # the old link
    if period is not None and as_ != "page":
        return account_statements.download(client, *period, as_, request.args.get("lang"))
    result = account_statements.statement(client, *period) if period else None
    return render_template(
        "admin/billing/statement.html",
        client=client,
        form=form,
        result=result,
        row_label=account_statements.row_label,
    ), (200 if period else 400)


@admin_billing.route("/settings", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def company_settings() -> WerkzeugResponse | str:
    details = company_details()
    form = CompanyForm(
        data={
            **details,
            "invoice_number_format": invoices.number_format(),
            "credit_note_number_format": credit_notes.number_format(),
            "invoice_due_days": runtime_settings.get("invoice_due_days", invoices.DEFAULT_DUE_DAYS),
        }
    )
    if form.validate_on_submit():
        formats = {
            name: getattr(form, name).data
            for name in ("invoice_number_format", "credit_note_number_format")
        }
        wrong = [name for name, pattern in formats.items() if not _number_format_ok(pattern)]
        for name in wrong:
            getattr(form, name).errors = [_("Use {year} and {number}, e.g. {year}-{number:06d}.")]
        if not wrong:
            try:
                save_company_details(form.data)
            except ClientError as exc:
                getattr(form, exc.field or "inn").errors = [str(exc)]
            else:
                for name, pattern in formats.items():
                    runtime_settings.put(name, pattern)
                runtime_settings.put("invoice_due_days", form.invoice_due_days.data)
                flash(_("Saved."), "success")
                return redirect(url_for("admin_billing.company_settings"))
    return render_template("admin/billing/settings.html", form=form, example=Decimal("48336.00"))


def _number_format_ok(pattern: str) -> bool:
    """A number format prints ``{number}`` (and may print ``{year}``), nothing else."""
    try:
        pattern.format(year=2026, number=1)
    except (KeyError, ValueError, IndexError):
        return False
    return "{number" in pattern


@admin_billing.route("/settings/taxes", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def tax_settings() -> WerkzeugResponse | str:
    """Tax rates with the dates they apply (one row each; an empty percent removes a row)."""
    from portal.catalog import tax

    rows = [
        {
            "percent": str(rate.percent),
            "valid_from": rate.valid_from,
            "valid_to": rate.valid_to,
            "name": rate.name,
        }
        for rate in tax.tax_rates()
    ]
    if request.method == "POST":
        form = request.form
        rows = [
            {
                "percent": percent.strip().replace(",", "."),
                "valid_from": start or None,
                "valid_to": end or None,
                "name": name.strip(),
            }
            for percent, start, end, name in zip(
                form.getlist("percent"),
                form.getlist("valid_from"),
                form.getlist("valid_to"),
                form.getlist("name"),
                strict=False,
            )
            if percent.strip()
        ]
        try:
            tax.save_tax_rates(rows)
        except tax.TaxSettingsError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin_billing.tax_settings"))
    return render_template("admin/billing/taxes.html", rows=rows)


@admin_billing.route("/invoices/<int:invoice_id>/act.pdf")
@requires(Permission.BILLING_VIEW)
def invoice_act_pdf(invoice_id: int) -> Response:
    invoice = _invoice_or_404(invoice_id)
    if not invoice_documents.has_act(invoice):
        abort(404)
    language = "en" if request.args.get("lang") == "en" else "ru"
    return pdf_response(
        stored_documents.stored_pdf(invoice, stored_documents.ACT, language),
        f"act-{invoice.number}.pdf",
    )


@admin_billing.route("/settings/currencies", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def currency_settings() -> WerkzeugResponse | str:
    """Other currencies and their rates to the default one, each from a date."""
    from portal.catalog import currencies

    rows = runtime_settings.get("currencies", []) or []
    if request.method == "POST":
        form = request.form
        rows = [
            {"code": code, "rate": rate, "since": since}
            for code, rate, since in zip(
                form.getlist("code"), form.getlist("rate"), form.getlist("since"), strict=False
            )
        ]
        try:
            currencies.save_rates(rows)
        except currencies.CurrencyError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin_billing.currency_settings"))
    return render_template(
        "admin/billing/currencies.html", rows=rows, default=currencies.default_currency()
    )
