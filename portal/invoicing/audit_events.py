"""How invoice and payment entries in the audit log read (portal.accounts.audit_sentences)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.accounts import audit_sentences as a
from portal.invoicing.gateways import method_label
from portal.invoicing.models.invoice import INVOICE_STATUS_LABELS


def _method(value: object) -> str:
    return "—" if value in (None, "") else method_label(str(value))


def register_audit_sentences() -> None:
    a.register_entity("invoice", _l("the invoice #%(id)s"))
    a.register_entity("payment", _l("the payment #%(id)s"))
    a.register_system_actor("billing run", _l("Billing run"))
    a.register_field("status", _l("Status"), a.enum_labels(INVOICE_STATUS_LABELS), entity="invoice")
    a.register_field("method", _l("Payment method"), _method)
    for name, label in (
        ("total", _l("Total")),
        ("amount_paid", _l("Paid")),
        ("amount", _l("Amount")),
        ("applied", _l("Applied")),
        ("to_credit", _l("To credit balance")),
    ):
        a.register_field(name, label, a.amount_text)
    for name, label in (
        ("number", _l("Number")),
        ("due_date", _l("Due date")),
        ("currency", _l("Currency")),
        ("invoices", _l("Invoices")),
        ("credit_note", _l("Credit note")),
        ("reference", _l("Reference")),
        ("description", _l("Description")),
        ("to", _l("Recipients")),
    ):
        a.register_field(name, label)

    a.register_sentence("invoice.create", _l("%(actor)s created a draft invoice for %(total)s"))
    a.register_sentence("invoice.issue", _l("%(actor)s issued the invoice %(number)s"))
    a.register_sentence("invoice.send", _l("%(actor)s sent the invoice to %(to)s"))
    a.register_sentence("invoice.cancel", _l("%(actor)s cancelled the invoice"))
    a.register_sentence(
        "invoice.credit_note", _l("%(actor)s issued the credit note %(credit_note)s")
    )
    a.register_sentence(
        "invoice.credit_applied", _l("%(actor)s applied %(applied)s from the credit balance")
    )
    a.register_sentence("payment.create", _l("%(actor)s recorded a payment of %(amount)s"))
    a.register_sentence("payment.refund", _l("%(actor)s refunded %(amount)s"))
    a.register_sentence("credit.add", _l("%(actor)s added %(amount)s to the credit balance"))
