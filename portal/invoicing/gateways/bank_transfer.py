"""The built-in gateway: pay by bank transfer quoting the invoice number in the purpose.

Registered ``trylast`` so a plugin may replace it (e.g. with a QR code for the SBP).
"""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portal.invoicing.company import company_details
from portal.invoicing.gateways import PaymentGateway
from portal.invoicing.models import Invoice
from portal.platform.hooks.markers import hookimpl


class BankTransfer(PaymentGateway):
    name = "bank"
    label = _l("Bank transfer")

    def instructions(self, invoice: Invoice) -> Markup:
        # render_template autoescapes every value, so the result is safe HTML
        return Markup(  # noqa: S704
            render_template(
                "gateways/bank_transfer.html", invoice=invoice, company=company_details()
            )
        )


@hookimpl(trylast=True)
def register_payment_gateways() -> list[PaymentGateway]:
    return [BankTransfer()]
