"""Documents a Russian company expects: the invoice for payment (счёт на оплату), the act of
services rendered (акт) and the reconciliation statement (акт сверки), as printable HTML and
as PDF, in Russian or English.

The services layer snapshots an invoice into the frozen values of :mod:`portal.documents.data`
and calls :func:`invoice_pdf` or :func:`act_pdf`; nothing here touches Flask or the database, so
a job or the CLI can print a document as well as a request can. See ``docs/documents.md``.
"""

from portal.documents.data import (
    ActDocument,
    CorrectionDocument,
    DocumentLine,
    InvoiceDocument,
    Party,
    ReconciliationDocument,
    ReconciliationRow,
)
from portal.documents.errors import DocumentError
from portal.documents.render import (
    act_html,
    act_pdf,
    correction_html,
    correction_pdf,
    invoice_html,
    invoice_pdf,
    reconciliation_html,
    reconciliation_pdf,
)
from portal.documents.words import amount_in_words

__all__ = [
    "ActDocument",
    "CorrectionDocument",
    "DocumentError",
    "DocumentLine",
    "InvoiceDocument",
    "Party",
    "ReconciliationDocument",
    "ReconciliationRow",
    "act_html",
    "act_pdf",
    "amount_in_words",
    "correction_html",
    "correction_pdf",
    "invoice_html",
    "invoice_pdf",
    "reconciliation_html",
    "reconciliation_pdf",
]
