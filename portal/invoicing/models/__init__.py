"""Models of the invoicing area. Importing this package registers them with SQLAlchemy."""

from portal.invoicing.models.automation import (
    BilledPeriod,
    BillingRun,
    BillingRunStatus,
    InvoiceReminder,
    LateFee,
    OverdueAction,
    OverdueActionKind,
    ReminderKind,
)
from portal.invoicing.models.bank_import import (
    UNMATCHED_STATUS_LABELS,
    BankStatementFile,
    UnmatchedPayment,
    UnmatchedStatus,
)
from portal.invoicing.models.document_render import DocumentRender
from portal.invoicing.models.invoice import (
    CreditNoteSettlement,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
)
from portal.invoicing.models.payment import (
    CreditEntry,
    CreditReason,
    Payment,
    PaymentAllocation,
    PaymentKind,
)

__all__ = [
    "UNMATCHED_STATUS_LABELS",
    "BankStatementFile",
    "BilledPeriod",
    "BillingRun",
    "BillingRunStatus",
    "CreditEntry",
    "CreditNoteSettlement",
    "CreditReason",
    "DocumentRender",
    "Invoice",
    "InvoiceCounter",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceReminder",
    "InvoiceStatus",
    "LateFee",
    "OverdueAction",
    "OverdueActionKind",
    "Payment",
    "PaymentAllocation",
    "PaymentKind",
    "ReminderKind",
    "UnmatchedPayment",
    "UnmatchedStatus",
]
