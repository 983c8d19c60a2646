"""What identifies a payment, in one normal form whichever way it arrives: typed by staff, read
from a bank statement, or reported by a gateway (docs/invoices-and-payments.md, "Payment
references").

A bank payment is identified by its payment order: the number, the order's date and the payer's
INN. Staff typing "701", "№ 701" or "п/п 701" and a statement reading ``Номер=0701`` mean the
same order, so the key keeps the number's digits without leading zeros. A gateway's payment is
identified by its transaction id as the gateway sends it.

This module imports no Flask or database code: statement parsers and forms use it as well as
``payments.record_payment``, which stores :attr:`PaymentReference.key` and looks payments up by
it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

#: The method of payments made by bank transfer (the built-in gateway's name): its references
#: are payment orders.
BANK = "bank"

#: How long after its date a payment order may reach the account (weekends, holidays, a slow
#: correspondent bank): a hand entry without the order's date matches an order this recent.
ORDER_TRAVEL = timedelta(days=10)

_PREFIX = re.compile(r"^\s*(?:п\s*/\s*п|пп|платежн\w*\s+поручени\w*|№|N°|No\.?|N|#)\s*", re.I)
_STATEMENT_TEXT = re.compile(
    r"^п/п\s+(?P<number>\S+)\s+от\s+(?P<day>\d{1,2}\.\d{1,2}\.\d{4})(?:\s+ИНН\s+(?P<inn>\d+))?$"
)
_WRITTEN_DATE = re.compile(r"\s+от\s+(?P<day>\d{1,2}\.\d{1,2}\.\d{4})\s*$", re.I)
_MAX_DIGITS = 15


@dataclass(frozen=True)
class PaymentReference:
    """A payment's reference: ``text`` as people read it, and what makes it unique.

    For a bank payment order ``number`` is set (digits without leading zeros when it has only
    digits), ``day`` is the order's date and ``payer_inn`` the payer's INN when known. For any
    other method only ``text`` is set: the gateway's transaction id.
    """

    text: str
    number: str = ""
    day: date | None = None
    payer_inn: str = ""

    @property
    def key(self) -> str | None:
        """The stored normal form, unique per method: ``701/2026-12-03/7712345700`` for an
        order (the INN part empty when unknown), the transaction id for a gateway; None for an
        order whose date is unknown, which cannot be told from another payer's order 701."""
        if self.number:
            if self.day is None:
                return None
            return f"{self.number}/{self.day.isoformat()}/{self.payer_inn}"
        return self.text or None

    def same_order(self, other: PaymentReference, inn: str = "", other_inn: str = "") -> bool:
        """Whether two references, one of them possibly less complete (a hand entry without
        the payer's INN or the order's date), can be the same payment order. ``inn`` and
        ``other_inn`` are the INNs of the clients the payments belong to: where a reference
        does not say who paid, its client is taken as the payer."""
        if not self.number or self.number != other.number:
            return False
        if self.day and other.day and self.day != other.day:
            return False
        payer, other_payer = self.payer_inn or inn, other.payer_inn or other_inn
        return not (payer and other_payer and payer != other_payer)


def arrived(reference: PaymentReference, received: date) -> bool:
    """Whether money received on ``received`` can be the order of ``reference``: on its date or
    up to :data:`ORDER_TRAVEL` later (always, when the order's date is not known)."""
    return reference.day is None or reference.day <= received <= reference.day + ORDER_TRAVEL


def order_number(text: str) -> str | None:
    """The number of a payment order as typed ("701", "№ 0701", "п/п 701"), as its digits
    without leading zeros; None when it is not a number."""
    digits = _PREFIX.sub("", text.strip()).strip()
    if not digits.isdigit() or len(digits) > _MAX_DIGITS:
        return None
    return digits.lstrip("0") or "0"


def bank_order(number: str, day: date | None, payer_inn: str = "") -> PaymentReference:
    """A payment order's reference, written as statements write it: "п/п 701 от 03.12.2026
    ИНН 7712345700" (without the date or the INN when unknown). A number that is not digits
    (some banks' own numbering) is kept as written, upper-cased and without spaces."""
    written = number.strip()[:40]
    normal = order_number(written) or "".join(written.upper().split())
    inn = payer_inn.strip()
    text = f"п/п {written}"
    if day is not None:
        text += f" от {day:%d.%m.%Y}"
    if inn:
        text += f" ИНН {inn}"
    return PaymentReference(text, normal, day, inn)


def parse(method: str, text: str) -> PaymentReference:
    """The normal form of a reference stored or typed as text: for a bank payment the order's
    number, date and INN where the text has them ("п/п 701 от 03.12.2026 ИНН 7712345700",
    "п/п 701", "701"), for another method the text itself, without outer spaces."""
    text = " ".join(text.split())
    if method != BANK:
        return PaymentReference(text)
    found = _STATEMENT_TEXT.match(text)
    if found:
        return bank_order(found["number"], _dotted(found["day"]), found["inn"] or "")
    written = _WRITTEN_DATE.search(text)
    day = _dotted(written["day"]) if written else None
    number = order_number(text[: written.start()] if written else text)
    if number is None:  # not an order number: keep the text, no key beyond it
        return PaymentReference(text)
    return PaymentReference(text, number, day)


def stored(method: str, text: str, key: str | None) -> PaymentReference:
    """A recorded payment's reference: its key where it has one (a hand entry confirmed by a
    statement has the statement's key, payer's INN included), else its text read again."""
    parts = key.split("/") if method == BANK and key else []
    if len(parts) != 3:
        return parse(method, text)
    try:
        day = date.fromisoformat(parts[1])
    except ValueError:
        return parse(method, text)
    return PaymentReference(text, parts[0], day, parts[2])


def _dotted(text: str) -> date | None:
    try:
        d, m, y = (int(part) for part in text.split("."))
        return date(y, m, d)
    except ValueError:
        return None
