"""What a document prints: plain frozen values, filled in by the services layer.

The documents package never reads the database: the invoices service snapshots the parties, the
lines and the totals (as they were when the invoice was issued) into these values and asks for
HTML or a PDF. Every amount is a ``Decimal`` already rounded to the currency's minor units;
nothing here rounds or recomputes a total. The totals are *checked* against the lines instead,
because a legal document whose figures do not add up must fail loudly, not be printed.

The arithmetic a document must satisfy (``DocumentError`` otherwise). The lines' figures come
from ``portal.billing.document_figures`` (``figures`` on every document), which also chooses
the price basis — inclusive, exclusive or mixed (``docs/documents.md``):

- the "Итого" row is the sum of the line amounts in that basis (gross when every price
  includes VAT, net otherwise); discounts and promo codes are already in them (a promo code is
  a negative line of its own). ``subtotal`` must be that sum or the sum of the net amounts
  (what ``portal.billing.InvoiceDraft.subtotal`` holds);
- ``tax_total`` is the sum of the lines' ``tax_amount``;
- ``total`` is the sum of the lines' gross amounts (net + tax): the line sum when prices
  include the tax ("В том числе НДС"), the line sum plus ``tax_total`` when they do not;
- ``amount_due`` is ``total - credit_applied - amount_paid``: what "Всего к оплате" says. The
  amount in words is the invoice's sum (``total``), never the zero left to pay.

``discount`` is what the client saved, already in the line amounts; the invoice mentions it in a
note ("Предоставлена скидка ... (учтена в суммах выше)") and never subtracts it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal

from portal.billing import (
    DocumentFigures,
    InconsistentLine,
    LineAmounts,
    PriceBasis,
    PrintedLine,
    document_figures,
    minor_units,
)
from portal.documents.errors import DocumentError
from portal.documents.formatting import check_decimal, format_money
from portal.documents.words import check_language, currency_words


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


def _text(obj: object, name: str, *, required: bool = False) -> None:
    value = getattr(obj, name)
    if not isinstance(value, str):
        raise TypeError(f"{type(obj).__name__}.{name} must be a str, not {type(value).__name__}.")
    if required and not value.strip():
        raise DocumentError(f"{type(obj).__name__}.{name} must not be empty.")


def _decimal(obj: object, name: str) -> Decimal:
    value = check_decimal(getattr(obj, name), f"{type(obj).__name__}.{name}")
    _set(obj, name, value)
    return value


def _date(obj: object, name: str) -> None:
    value = getattr(obj, name)
    if not isinstance(value, date):
        raise TypeError(f"{type(obj).__name__}.{name} must be a date, not {type(value).__name__}.")


@dataclass(frozen=True, slots=True)
class Party:
    """The seller or the buyer as printed: legal name, tax numbers, address, bank, signatories.

    The bank fields matter for the seller (the invoice's bank details block); ``signatory`` and
    ``accountant`` are the names printed under the signature lines.
    """

    name: str
    inn: str = ""
    kpp: str = ""
    address: str = ""
    bank_name: str = ""
    bank_bic: str = ""
    bank_account: str = ""
    bank_corr_account: str = ""
    signatory: str = ""
    accountant: str = ""

    def __post_init__(self) -> None:
        for item in fields(self):
            _text(self, item.name, required=item.name == "name")


@dataclass(frozen=True, slots=True)
class DocumentLine:
    """One row of the table; ``details`` are sub-lines without amounts, printed under it
    ("Количество пользователей: 5 x Пользователь").

    ``amount`` is ``quantity × unit_price`` as sold: with the tax when the line's price
    includes it (``tax_inclusive``; ``None`` means "as the document says"), without it
    otherwise. ``tax_percent`` is ``None`` for a line without VAT, printed "Без налога
    (НДС)"; ``Decimal(0)`` is the 0 % rate (exports), printed "НДС 0 %": in Russian law they
    are different things, so the caller must say which.
    """

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    tax_percent: Decimal | None
    tax_amount: Decimal
    details: tuple[str, ...] = ()
    tax_inclusive: bool | None = None

    @classmethod
    def printed(
        cls, figures: PrintedLine, description: str, unit: str, details: Iterable[str] = ()
    ) -> DocumentLine:
        """The row of a line laid out by ``portal.billing.document_figures``."""
        return cls(
            description=description,
            quantity=figures.quantity,
            unit=unit,
            unit_price=figures.unit_price,
            amount=figures.amount,
            tax_percent=figures.tax_percent,
            tax_amount=figures.tax,
            details=tuple(details),
            tax_inclusive=figures.price_includes_tax,
        )

    def __post_init__(self) -> None:
        if self.tax_inclusive is not None and not isinstance(self.tax_inclusive, bool):
            raise TypeError("DocumentLine.tax_inclusive must be a bool or None.")
        _text(self, "description", required=True)
        _text(self, "unit")
        _decimal(self, "quantity")
        _decimal(self, "unit_price")
        _decimal(self, "amount")
        tax = _decimal(self, "tax_amount")
        if self.tax_percent is None:
            if tax:
                raise DocumentError(f"Line {self.description!r} has tax {tax} but no tax rate.")
        elif _decimal(self, "tax_percent") < 0:
            raise DocumentError(f"Line {self.description!r} has a negative tax rate.")
        details = tuple(self.details)
        if not all(isinstance(detail, str) for detail in details):
            raise TypeError("DocumentLine.details must be strings.")
        _set(self, "details", details)


def _lines(obj: object, currency: str) -> tuple[DocumentLine, ...]:
    lines = tuple(obj.lines)  # type: ignore[attr-defined]
    if not lines:
        raise DocumentError(f"{type(obj).__name__} has no lines.")
    for line in lines:
        if not isinstance(line, DocumentLine):
            raise TypeError(f"Lines must be DocumentLine, not {type(line).__name__}.")
        _minor(line.amount, currency, f"The amount of {line.description!r}")
        _minor(line.tax_amount, currency, f"The tax of {line.description!r}")
    _set(obj, "lines", lines)
    return lines


def _minor(value: Decimal, currency: str, what: str) -> None:
    """An amount printed on a document is already in minor units: we never round it."""
    units = value.scaleb(minor_units(currency))
    if units != units.to_integral_value():
        raise DocumentError(f"{what} {value} has more decimals than {currency} allows.")


def _amounts(obj: object, currency: str, *names: str) -> None:
    for name in names:
        _minor(_decimal(obj, name), currency, f"{type(obj).__name__}.{name}")


def _expect(what: str, actual: Decimal, expected: Decimal, currency: str, rule: str) -> None:
    if actual != expected:
        raise DocumentError(
            f"{what} is {format_money(actual, currency)}, but {rule} gives "
            f"{format_money(expected, currency)}."
        )


def _figures(obj: InvoiceDocument | ActDocument | CorrectionDocument) -> DocumentFigures:
    """The lines' printed figures by ``portal.billing.document_figures``: the one function the
    invoice page, the documents, the e-mail and the CSV share."""
    amounts = [
        LineAmounts(
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            tax_percent=line.tax_percent,
            tax_inclusive=obj.tax_inclusive if line.tax_inclusive is None else line.tax_inclusive,
            net=line.amount - line.tax_amount if inclusive else line.amount,
            tax=line.tax_amount,
            total=line.amount if inclusive else line.amount + line.tax_amount,
        )
        for line in obj.lines
        for inclusive in [obj.tax_inclusive if line.tax_inclusive is None else line.tax_inclusive]
    ]
    try:
        return document_figures(amounts, obj.currency)
    except InconsistentLine as exc:  # pragma: no cover - built consistent above
        raise DocumentError(exc.message) from None


def _check_common(obj: InvoiceDocument | ActDocument | CorrectionDocument) -> str:
    """Checks every document shares: text fields, parties, language, lines, tax total, total;
    sets ``figures``."""
    _text(obj, "number", required=True)
    for party in ("seller", "buyer"):
        if not isinstance(getattr(obj, party), Party):
            raise TypeError(f"{type(obj).__name__}.{party} must be a Party.")
    if not isinstance(obj.tax_inclusive, bool):
        raise TypeError(f"{type(obj).__name__}.tax_inclusive must be a bool.")
    check_language(obj.language)
    currency = obj.currency
    currency_words(currency)  # only a currency we can spell goes on a document
    _lines(obj, currency)
    _amounts(obj, currency, "tax_total", "total")
    figures = _figures(obj)
    _set(obj, "figures", figures)
    _expect("The tax total", obj.tax_total, figures.tax, currency, "the sum of the lines' tax")
    if figures.basis is PriceBasis.INCLUSIVE:
        rule = "the subtotal (prices include the tax)"
    elif figures.basis is PriceBasis.MIXED:
        rule = "the sum of the lines with tax"
    else:
        rule = "the subtotal plus the tax"
    _expect("The total", obj.total, figures.gross, currency, rule)
    return currency


def line_sum(lines: Iterable[DocumentLine]) -> Decimal:
    """The sum of the line amounts as sold (each in its own price basis)."""
    return sum((line.amount for line in lines), Decimal(0))


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """An invoice for payment (счёт на оплату), as issued; see the module for its arithmetic.

    ``payment_purpose`` is the text the payer should quote in the payment order; left empty, the
    document writes "Оплата по счету № <number> от <date>. Сумма ..." itself. ``amount_paid`` is
    what was paid other than from the credit balance; once nothing is due, ``paid_date`` is the
    day it was paid and the document says so instead of asking for payment.
    """

    number: str
    issue_date: date
    due_date: date
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    currency: str
    subtotal: Decimal
    discount: Decimal
    tax_total: Decimal
    total: Decimal
    credit_applied: Decimal
    amount_due: Decimal
    tax_inclusive: bool
    language: str = "ru"
    payment_purpose: str = ""
    notes: str = ""
    amount_paid: Decimal = Decimal(0)
    paid_date: date | None = None
    #: Computed from the lines when the document is built.
    figures: DocumentFigures = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _text(self, "payment_purpose")
        _text(self, "notes")
        _date(self, "issue_date")
        _date(self, "due_date")
        if self.paid_date is not None:
            _date(self, "paid_date")
        currency = _check_common(self)
        _amounts(
            self, currency, "subtotal", "discount", "credit_applied", "amount_due", "amount_paid"
        )
        figures = self.figures
        if self.subtotal not in (figures.printed_sum, figures.net):
            _expect(
                "The subtotal",
                self.subtotal,
                figures.printed_sum,
                currency,
                "the sum of the line amounts",
            )
        if self.discount < 0 or self.credit_applied < 0 or self.amount_paid < 0:
            raise DocumentError(
                "The discount, the credit applied and the amount paid must not be negative."
            )
        _expect(
            "The amount due",
            self.amount_due,
            self.total - self.credit_applied - self.amount_paid,
            currency,
            "the total minus the credit applied and the amount paid",
        )


@dataclass(frozen=True, slots=True)
class ActDocument:
    """An act of services rendered (акт) for ``period_start`` to ``period_end``, both included
    (pass ``Period.last_day`` as the end, not ``Period.end``, which is the next due date).
    """

    number: str
    act_date: date
    period_start: date
    period_end: date
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    currency: str
    total: Decimal
    tax_total: Decimal
    tax_inclusive: bool
    language: str = "ru"
    invoice_number: str = ""
    #: Computed from the lines when the document is built.
    figures: DocumentFigures = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _text(self, "invoice_number")
        for name in ("act_date", "period_start", "period_end"):
            _date(self, name)
        if self.period_end < self.period_start:
            raise DocumentError("The act's period ends before it starts.")
        _check_common(self)


@dataclass(frozen=True, slots=True)
class CorrectionDocument:
    """A correction of an issued invoice (корректировочный счёт, a credit note): what the
    invoice ``original_number`` of ``original_date`` is reduced by.

    The lines and totals are the amounts of the reduction, **positive** (the stored credit note
    has them negative): a document saying "Сумма корректировки: 1 220,00" reads right, one
    saying "Минус одна тысяча..." does not. It asks for no payment: no bank details, no due
    date, no payment purpose.
    """

    number: str
    issue_date: date
    original_number: str
    original_date: date
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    currency: str
    tax_total: Decimal
    total: Decimal
    tax_inclusive: bool
    language: str = "ru"
    notes: str = ""
    #: Computed from the lines when the document is built.
    figures: DocumentFigures = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _text(self, "original_number", required=True)
        _text(self, "notes")
        _date(self, "issue_date")
        _date(self, "original_date")
        _check_common(self)
        if self.total < 0:
            raise DocumentError("A correction prints the reduction as a positive amount.")


@dataclass(frozen=True, slots=True)
class ReconciliationRow:
    """One entry of the seller's side of a reconciliation statement: a document and the amount
    it moved, as a debit (the buyer owes more) or a credit (the buyer owes less)."""

    day: date
    document: str
    debit: Decimal
    credit: Decimal

    def __post_init__(self) -> None:
        _date(self, "day")
        _text(self, "document", required=True)
        if _decimal(self, "debit") < 0 or _decimal(self, "credit") < 0:
            raise DocumentError(f"Row {self.document!r}: a debit or credit is never negative.")


@dataclass(frozen=True, slots=True)
class ReconciliationDocument:
    """A reconciliation statement (акт сверки взаиморасчётов) from ``period_start`` to
    ``period_end``: the seller's records of its account with the buyer, for the buyer to check
    against theirs and sign. Balances are what the buyer owes the seller (negative: the seller
    owes the buyer, e.g. an advance).

    The figures must add up: ``debit_total`` and ``credit_total`` are the sums of the rows and
    ``closing`` is ``opening + debit_total - credit_total``.
    """

    seller: Party
    buyer: Party
    period_start: date
    period_end: date
    currency: str
    opening: Decimal
    rows: tuple[ReconciliationRow, ...]
    debit_total: Decimal
    credit_total: Decimal
    closing: Decimal
    language: str = "ru"

    def __post_init__(self) -> None:
        for name in ("period_start", "period_end"):
            _date(self, name)
        if self.period_end < self.period_start:
            raise DocumentError("The statement's period ends before it starts.")
        for party in ("seller", "buyer"):
            if not isinstance(getattr(self, party), Party):
                raise TypeError(f"ReconciliationDocument.{party} must be a Party.")
        check_language(self.language)
        currency_words(self.currency)
        rows = tuple(self.rows)
        for row in rows:
            if not isinstance(row, ReconciliationRow):
                raise TypeError(f"Rows must be ReconciliationRow, not {type(row).__name__}.")
            _minor(row.debit, self.currency, f"The debit of {row.document!r}")
            _minor(row.credit, self.currency, f"The credit of {row.document!r}")
        _set(self, "rows", rows)
        _amounts(self, self.currency, "opening", "debit_total", "credit_total", "closing")
        debit = sum((row.debit for row in rows), Decimal(0))
        credit = sum((row.credit for row in rows), Decimal(0))
        _expect("The debit turnover", self.debit_total, debit, self.currency, "the rows")
        _expect("The credit turnover", self.credit_total, credit, self.currency, "the rows")
        _expect(
            "The closing balance",
            self.closing,
            self.opening + debit - credit,
            self.currency,
            "the opening balance plus the debit less the credit",
        )
