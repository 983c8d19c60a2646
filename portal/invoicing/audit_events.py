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
    a.register_fields(
        {
            "total": _l("Total"),
            "amount_paid": _l("Paid"),
            "amount": _l("Amount"),
            "applied": _l("Applied"),
            "to_credit": _l("To credit balance"),
        },
        a.amount_text,
    )
    a.register_fields(
        {
            "number": _l("Number"),
            "due_date": _l("Due date"),
            "currency": _l("Currency"),
            "invoices": _l("Invoices"),
            "credit_note": _l("Credit note"),
            "reference": _l("Reference"),
            "description": _l("Description"),
            "to": _l("Recipients"),
        }
    )

    a.register_sentences(
        {
            "invoice.create": _l("%(actor)s created a draft invoice for %(total)s"),
            "invoice.issue": _l("%(actor)s issued the invoice %(number)s"),
            "invoice.send": _l("%(actor)s sent the invoice to %(to)s"),
            "invoice.cancel": _l("%(actor)s cancelled the invoice"),
            "invoice.credit_note": _l("%(actor)s issued the credit note %(credit_note)s"),
            "invoice.credit_applied": _l("%(actor)s applied %(applied)s from the credit balance"),
            "payment.create": _l("%(actor)s recorded a payment of %(amount)s"),
            "payment.refund": _l("%(actor)s refunded %(amount)s"),
            "credit.add": _l("%(actor)s added %(amount)s to the credit balance"),
        }
    )
