"""Bank statements: what a parser reads from a bank's file, and the built-in 1C format.

Plugins add formats (a bank's own CSV, MT940, a JSON API dump) through the
``register_statement_parsers`` hook: an object with a ``name``, a ``label``,
``recognises(data) -> bool`` and ``parse(data) -> BankStatement``. The import asks the parsers in
order and the first that recognises the file reads it; the built-in ``1CClientBankExchange``
parser is registered ``trylast``, so a plugin can take over a file it would also read.

This module imports no Flask or database code: a parser is a pure function of the file's bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from portal.invoicing.payment_references import PaymentReference, bank_order
from portal.platform.hooks.markers import hookimpl


class StatementFormatError(ValueError):
    """The file is in a parser's format but broken; the message says where.

    ``line``, ``value`` and ``expected`` ("date", "amount", "number", "end") let the import say
    the same to staff in their language; the message itself is for logs and the CLI.
    """

    def __init__(
        self, message: str, *, line: int | None = None, value: str = "", expected: str = ""
    ) -> None:
        super().__init__(message)
        self.line = line
        self.value = value
        self.expected = expected


@dataclass(frozen=True)
class StatementEntry:
    """One incoming payment order as the bank reports it."""

    number: str
    day: date
    amount: Decimal
    purpose: str
    payer: str = ""
    payer_inn: str = ""
    payer_account: str = ""
    recipient_account: str = ""
    #: When the money reached the account (ДатаПоступило), if the bank says so.
    received: date | None = None

    @property
    def payment_reference(self) -> PaymentReference:
        """What identifies the payment order (number, date, payer's INN): the same order
        imported twice, or typed by staff before, is one payment."""
        return bank_order(self.number, self.day, self.payer_inn)

    @property
    def reference(self) -> str:
        """The payment order as people read it: "п/п 701 от 03.12.2026 ИНН 7712345700"."""
        return self.payment_reference.text


@dataclass(frozen=True)
class BankStatement:
    """A parsed statement: the account, the period and the entries, in the file's order."""

    parser: str
    account: str = ""
    start: date | None = None
    end: date | None = None
    entries: tuple[StatementEntry, ...] = field(default=())


class StatementParser:
    """Base class of a statement format. Override ``recognises`` (cheap: look at the first
    bytes) and ``parse`` (raise :class:`StatementFormatError` for a broken file)."""

    name: str = ""
    label: str = ""

    def recognises(self, data: bytes) -> bool:
        raise NotImplementedError

    def parse(self, data: bytes) -> BankStatement:
        raise NotImplementedError


# --- 1CClientBankExchange ------------------------------------------------------------------------

ONEC_MARKER = "1CClientBankExchange"


def _onec_text(data: bytes) -> str:
    """Banks send windows-1251 (Кодировка=Windows); a file re-saved as UTF-8 is read too (Cyrillic
    in windows-1251 is never valid UTF-8)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def _onec_date(value: str, where: str, line: int | None = None) -> date:
    try:
        return datetime.strptime(value.strip(), "%d.%m.%Y").date()
    except ValueError:
        raise StatementFormatError(
            f"{where}: {value!r} is not a date (ДД.ММ.ГГГГ)",
            line=line,
            value=value,
            expected="date",
        ) from None


def _onec_amount(value: str, where: str, line: int | None = None) -> Decimal:
    problem = StatementFormatError(
        f"{where}: {value!r} is not an amount", line=line, value=value, expected="amount"
    )
    try:
        amount = Decimal(value.strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise problem from None
    if not amount.is_finite() or amount <= 0:
        raise problem
    return amount


class OneCClientBankExchange(StatementParser):
    """The ``1CClientBankExchange`` text format Russian banks export (windows-1251): a header
    of ``key=value`` lines, then one ``СекцияДокумент=…`` … ``КонецДокумента`` block per payment
    order. Orders paid *from* the statement's account (outgoing) are left out."""

    name = "1c"
    label = "1CClientBankExchange"

    def recognises(self, data: bytes) -> bool:
        return data.lstrip(b"\xef\xbb\xbf \r\n\t")[:40].startswith(ONEC_MARKER.encode())

    def parse(self, data: bytes) -> BankStatement:
        header: dict[str, str] = {}
        documents: list[tuple[int, dict[str, str]]] = []
        current: dict[str, str] | None = None
        ended = False
        for number, raw in enumerate(_onec_text(data).splitlines(), start=1):
            line = raw.strip()
            key, _sep, value = line.partition("=")
            if key == "СекцияДокумент":
                current = {"СекцияДокумент": value}
                documents.append((number, current))
            elif key == "КонецДокумента":
                current = None
            elif key == "КонецФайла":
                ended = True
                break
            elif _sep:
                (current if current is not None else header)[key] = value
        if not ended or current is not None:
            # A file cut short (an interrupted download) would silently lose its last orders.
            raise StatementFormatError(
                "the file ends without КонецДокумента/КонецФайла", expected="end"
            )
        account = header.get("РасчСчет", "")
        entries = []
        for line_number, doc in documents:
            if account and doc.get("ПлательщикСчет") == account:
                continue  # our own outgoing payment
            where = f"line {line_number}"
            received = doc.get("ДатаПоступило", "").strip()
            order_number = doc.get("Номер", "").strip()
            if not order_number:
                raise StatementFormatError(
                    f"{where}: the payment order has no Номер", line=line_number, expected="number"
                )
            entries.append(
                StatementEntry(
                    number=order_number,
                    day=_onec_date(doc.get("Дата", ""), where, line_number),
                    amount=_onec_amount(doc.get("Сумма", ""), where, line_number),
                    purpose=doc.get("НазначениеПлатежа", "").strip(),
                    payer=(doc.get("Плательщик1") or doc.get("Плательщик", "")).strip(),
                    payer_inn=doc.get("ПлательщикИНН", "").strip(),
                    payer_account=doc.get("ПлательщикСчет", "").strip(),
                    recipient_account=doc.get("ПолучательСчет", "").strip(),
                    received=_onec_date(received, where, line_number) if received else None,
                )
            )
        start, end = header.get("ДатаНачала"), header.get("ДатаКонца")
        return BankStatement(
            parser=self.name,
            account=account,
            start=_onec_date(start, "ДатаНачала") if start else None,
            end=_onec_date(end, "ДатаКонца") if end else None,
            entries=tuple(entries),
        )


@hookimpl(trylast=True)
def register_statement_parsers() -> list[StatementParser]:
    return [OneCClientBankExchange()]
