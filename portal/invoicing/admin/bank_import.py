"""Billing → Bank statement import (upload, preview, confirm) and Billing → Unmatched payments
(link to invoices, leave as credit, dismiss). The matching itself is in
portal/invoicing/bank_statements.py, shared with the ``portal billing import-statement`` CLI."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.accounts.models import Client
from portal.accounts.models.permissions import Permission
from portal.core.extensions import db
from portal.invoicing import bank_statements, payments
from portal.invoicing.forms import DismissPaymentForm, StatementUploadForm
from portal.invoicing.models import (
    UNMATCHED_STATUS_LABELS,
    BankStatementFile,
    UnmatchedPayment,
    UnmatchedStatus,
)
from portal.invoicing.models.invoice import INVOICE_STATUS_LABELS
from portal.web.identity import Area
from portal.web.paging import keyset_page
from portal.web.permissions import requires
from portal.web.query_args import db_id, id_arg

admin_bank_import = Blueprint("admin_bank_import", __name__, url_prefix="/admin/billing/bank")
admin_bank_import.portal_area = Area.ADMIN  # type: ignore[attr-defined]


def _statement_or_404(statement_id: int) -> BankStatementFile:
    stored = db.session.get(BankStatementFile, statement_id)
    if stored is None:
        abort(404)
    return stored


def _unmatched_or_404(row_id: int) -> UnmatchedPayment:
    row = db.session.get(UnmatchedPayment, row_id)
    if row is None:
        abort(404)
    return row


@admin_bank_import.route("/import", methods=["GET", "POST"])
@requires(Permission.BILLING_MANAGE)
def upload() -> Response | str:
    """Upload a statement; nothing is recorded before staff confirm its preview."""
    form = StatementUploadForm()
    if form.validate_on_submit():
        upload = form.statement.data
        data = upload.stream.read(bank_statements.MAX_STATEMENT_BYTES + 1)
        try:
            stored, _statement = bank_statements.store_statement(
                data, upload.filename or "", current_user.id
            )
        except bank_statements.StatementError as exc:
            db.session.rollback()
            form.statement.errors = [str(exc)]
        else:
            return redirect(url_for("admin_bank_import.statement", statement_id=stored.id))
    return render_template(
        "admin/billing/bank_import.html",
        form=form,
        statements=bank_statements.recent_statements(),
        max_mb=bank_statements.MAX_STATEMENT_BYTES // (1024 * 1024),
    )


@admin_bank_import.route("/import/<int:statement_id>")
@requires(Permission.BILLING_MANAGE)
def statement(statement_id: int) -> str:
    """The preview: what confirming would do for each payment order, as of now."""
    stored = _statement_or_404(statement_id)
    parsed = bank_statements.parse(stored.data)
    rows = bank_statements.preview(parsed)
    return render_template(
        "admin/billing/bank_preview.html",
        stored=stored,
        statement=parsed,
        currency=bank_statements.statement_currency(parsed),
        rows=rows,
        outcome=bank_statements.Outcome,
        to_do=sum(
            row.outcome in (bank_statements.Outcome.MATCHED, bank_statements.Outcome.UNMATCHED)
            for row in rows
        ),
    )


@admin_bank_import.route("/import/<int:statement_id>/confirm", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def confirm(statement_id: int) -> Response:
    stored = _statement_or_404(statement_id)
    report = bank_statements.confirm(stored, current_user.id)
    flash(
        _(
            "Recorded %(recorded)s payments; %(unmatched)s sent to the unmatched payments; "
            "%(already)s already imported.",
            recorded=len(report.recorded),
            unmatched=len(report.unmatched),
            already=len(report.already) + len(report.queued_before),
        ),
        "success",
    )
    for entry, payment in report.linked:
        flash(
            _(
                "Payment order %(order)s: already recorded by hand as payment #%(id)s; "
                "linked, not recorded again.",
                order=entry.number,
                id=payment.id,
            ),
            "info",
        )
    return redirect(url_for("admin_bank_import.statement", statement_id=statement_id))


@admin_bank_import.route("/unmatched")
@requires(Permission.BILLING_VIEW)
def unmatched() -> str:
    raw = request.args.get("status", UnmatchedStatus.OPEN.value)
    status = UnmatchedStatus(raw) if raw in {s.value for s in UnmatchedStatus} else None
    page = keyset_page(
        bank_statements.unmatched_list(status),
        sort=UnmatchedPayment.day,
        id_column=UnmatchedPayment.id,
    )
    return render_template(
        "admin/billing/unmatched.html",
        page=page,
        status=status,
        labels=UNMATCHED_STATUS_LABELS,
        statuses=list(UnmatchedStatus),
    )


@admin_bank_import.route("/unmatched/<int:row_id>")
@requires(Permission.BILLING_VIEW)
def unmatched_item(row_id: int) -> str:
    """One queued order: find the client (by name or INN; the payer's INN is suggested), tick
    the invoices it pays, or leave it as credit, or dismiss it."""
    row = _unmatched_or_404(row_id)
    query = request.args.get("q", "").strip()
    found = bank_statements.find_clients(query or row.payer_inn)
    chosen = None
    if (client_id := id_arg("client_id")) is not None:
        chosen = db.session.get(Client, client_id)
    elif len(found) == 1 and not query:
        chosen = found[0]
    return render_template(
        "admin/billing/unmatched_item.html",
        row=row,
        query=query,
        found=found,
        chosen=chosen,
        invoices=bank_statements.open_invoices(chosen, row.currency) if chosen else [],
        labels=UNMATCHED_STATUS_LABELS,
        invoice_labels=INVOICE_STATUS_LABELS,
        is_open=row.status is UnmatchedStatus.OPEN,
    )


@admin_bank_import.route("/unmatched/<int:row_id>/resolve", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def resolve(row_id: int) -> Response:
    """Link to the ticked invoices, or (none ticked, "credit") leave all as the client's
    credit."""
    row = _unmatched_or_404(row_id)
    client = db.session.get(Client, id_arg("client_id", form=True) or 0)
    if client is None:
        flash(_("Choose the client first."), "danger")
        return redirect(url_for("admin_bank_import.unmatched_item", row_id=row_id))
    wanted = {db_id(v) for v in request.form.getlist("invoice_ids")} - {None}
    chosen = [i for i in bank_statements.open_invoices(client, row.currency) if i.id in wanted]
    back = url_for("admin_bank_import.unmatched_item", row_id=row_id, client_id=client.id)
    if request.form.get("action") != "credit" and not chosen:
        flash(_("Tick the invoices the payment is for, or leave it as credit."), "danger")
        return redirect(back)
    try:
        bank_statements.resolve_with_payment(
            row,
            client,
            chosen if request.form.get("action") != "credit" else [],
            current_user.id,
        )
    except payments.PaymentError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(back)
    flash(_("Payment recorded."), "success")
    return redirect(url_for("admin_bank_import.unmatched"))


@admin_bank_import.route("/unmatched/<int:row_id>/dismiss", methods=["POST"])
@requires(Permission.BILLING_MANAGE)
def dismiss(row_id: int) -> Response:
    row = _unmatched_or_404(row_id)
    form = DismissPaymentForm()
    if not form.validate():
        flash(_("Say why the payment is not ours."), "danger")
        return redirect(url_for("admin_bank_import.unmatched_item", row_id=row_id))
    try:
        bank_statements.dismiss(row, form.reason.data, current_user.id)
    except payments.PaymentError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("admin_bank_import.unmatched_item", row_id=row_id))
    flash(_("Dismissed."), "success")
    return redirect(url_for("admin_bank_import.unmatched"))
