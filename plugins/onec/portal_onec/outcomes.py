"""What a manager's call about a renewal (or an inactive licence) came to.

Codes are stored and never change; the labels are what staff say (SBilling's words in the
Russian UI). A *refusal* (every outcome but an issued invoice and "Нулевка") needs a comment
and ends the service with its period; the other two keep the item in the queue until the
renewal is paid.
"""

from __future__ import annotations

import enum
from typing import Any

from flask_babel import lazy_gettext as _l


class Outcome(enum.StrEnum):
    INVOICE_ISSUED = "invoice_issued"
    WRONG_CONTACTS = "wrong_contacts"
    NOT_USED = "not_used"
    NOT_EXISTS = "not_exists"
    CHANGED_ACCOUNT = "changed_account"
    LEFT = "left"
    #: "Нулевка": the client renews only the base account (the zero tariff).
    ZERO = "zero"

    @property
    def label(self) -> Any:
        return LABELS[self]

    @property
    def is_refusal(self) -> bool:
        """A negative outcome: needs a comment, and the service ends with its period."""
        return self not in KEEPING


#: The outcomes that keep the client: the item waits in the queue for the payment.
KEEPING = frozenset({Outcome.INVOICE_ISSUED, Outcome.ZERO})

LABELS: dict[Outcome, Any] = {
    Outcome.INVOICE_ISSUED: _l("Invoice issued"),
    Outcome.WRONG_CONTACTS: _l("Wrong contact details"),
    Outcome.NOT_USED: _l("Not used"),
    Outcome.NOT_EXISTS: _l("Does not exist"),
    Outcome.CHANGED_ACCOUNT: _l("Changed account"),
    Outcome.LEFT: _l("Left us"),
    Outcome.ZERO: _l("Zero tariff"),
}


def label_of(code: str | None) -> Any:
    """The label of a stored code (an unknown one is shown as it is)."""
    if not code:
        return ""
    try:
        return Outcome(code).label
    except ValueError:
        return code
