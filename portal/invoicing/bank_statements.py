"""Importing a bank statement: read it with the first parser that knows the format, then record
each incoming payment against the invoice its purpose names.

Parsers come from the ``register_statement_parsers`` hook (plugins first, the built-in
1CClientBankExchange parser last). A payment order is matched when its purpose contains the
number of an invoice awaiting payment, in the invoice's currency, and the payer's INN (when both
are known) is the client's. Recording goes through ``payments.record_payment`` with the payment
order as the reference, so importing the same statement twice records nothing new. What cannot
be matched is reported for staff to link by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Client
from portal.core.app_state import plugins
from portal.core.extensions import db
from portal.invoicing import payments
from portal.invoicing.models import Invoice, Payment
from portal.invoicing.statement_formats import BankStatement, StatementEntry, StatementParser

_TOKEN = re.compile(r"[\w/#.-]+")


class StatementError(ValueError):
    """The file cannot be read as a statement; the message says why, for staff."""


def parsers() -> list[StatementParser]:
    """Registered parsers in the order they are asked (plugins first, built-ins last)."""
    return list(plugins().collect("register_statement_parsers"))


def parse(data: bytes) -> BankStatement:
    """The statement in ``data``, read by the first parser that recognises it."""
    for parser in parsers():
        if parser.recognises(data):
            try:
                return parser.parse(data)
            except ValueError as exc:
                raise StatementError(
                    _("The %(format)s file is broken: %(error)s", format=parser.label, error=exc)
                ) from exc
    known = ", ".join(parser.label or parser.name for parser in parsers())
    raise StatementError(_("Unknown statement format; known formats: %(known)s", known=known))


@dataclass
class ImportReport:
    """What an import did: payments recorded now, orders already recorded, orders to link."""

    statement: BankStatement
    recorded: list[Payment] = field(default_factory=list)
    already: list[StatementEntry] = field(default_factory=list)
    unmatched: list[tuple[StatementEntry, str]] = field(default_factory=list)


def _tokens(purpose: str) -> set[str]:
    tokens = set()
    for token in _TOKEN.findall(purpose):
        tokens.add(token)
        tokens.add(token.strip(".-#/"))
    return tokens - {""}


def _invoice_for(entry: StatementEntry) -> tuple[Invoice | None, str]:
    """The invoice the entry pays, or None and the reason for staff."""
    tokens = _tokens(entry.purpose)
    found = db.session.scalars(
        select(Invoice).where(Invoice.number.in_(tokens), Invoice.status.in_(payments.PAYABLE))
    ).all()
    if not found:
        return None, _("No invoice awaiting payment is named in the purpose.")
    if len({invoice.client_id for invoice in found}) > 1:
        return None, _("The purpose names invoices of different clients.")
    invoice = found[0]
    client = db.session.get(Client, invoice.client_id)
    if client is not None and client.inn and entry.payer_inn and client.inn != entry.payer_inn:
        return None, _(
            "The payer's INN %(payer)s is not the client's %(client)s.",
            payer=entry.payer_inn,
            client=client.inn,
        )
    return invoice, ""


def _existing(entry: StatementEntry) -> Payment | None:
    return db.session.scalar(
        select(Payment).where(Payment.method == "bank", Payment.reference == entry.reference)
    )


def import_statement(data: bytes) -> ImportReport:
    """Parse ``data`` and record its incoming payments. Each payment commits on its own (a
    statement is a list of independent facts); repeating the import records nothing new."""
    report = ImportReport(parse(data))
    for entry in report.statement.entries:
        if _existing(entry) is not None:
            report.already.append(entry)
            continue
        invoice, reason = _invoice_for(entry)
        if invoice is None:
            report.unmatched.append((entry, reason))
            continue
        client = db.session.get(Client, invoice.client_id)
        try:
            payment = payments.record_payment(
                client,
                amount=entry.amount,
                method="bank",
                reference=entry.reference,
                payment_date=entry.received or entry.day,
                invoices=[invoice],
                currency=invoice.currency,
                description=entry.purpose[:500],
            )
        except payments.PaymentError as exc:
            db.session.rollback()
            report.unmatched.append((entry, str(exc)))
            continue
        report.recorded.append(payment)
    return report
