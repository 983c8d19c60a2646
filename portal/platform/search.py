"""The admin search boxes: one parser and one set of WHERE clauses for the client list, the
invoice list, the ticket list, the services list and the bank-statement "link by hand" box.

Why one module: every box used to build its own ``ILIKE '%q%'`` over a different set of columns,
unescaped, so ``%`` and ``_`` were wildcards and nothing could use an index. Here

* an identifier typed whole takes an exact path, an equality on a unique or b-tree index
  (``#42`` is client 42; an e-mail; a 10- or 12-digit INN; an invoice number) - when nothing
  matches it exactly, the text is searched as any other;
* any other text is split into words, and every word must occur (case-insensitively, Cyrillic
  too) in one of the client's first name, last name, company, e-mail, phone or INN. On
  PostgreSQL migration 0034 puts a trigram (``pg_trgm``) GIN index on each of these columns, so
  ``ILIKE '%word%'`` is a bitmap index scan instead of a scan of every client; SQLite keeps the
  same LIKE without the index (docs/development.md, "Search").

A match narrows the list; it never jumps to a card (docs/admin-guide.md, "Search"): the list,
its CSV export and its bookmarks stay the same page whatever was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import flash
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, false, or_, select, true

from portal.accounts.models import Client
from portal.accounts.models.account import normalise_email
from portal.core.extensions import db
from portal.web.query_args import db_id

#: Longer text is refused with a message: no name, e-mail or INN is that long, and every word
#: is one more condition per column.
MAX_LENGTH = 100
#: Words past this many are ignored (each is an AND of six index scans).
MAX_WORDS = 5

#: The client columns a word is looked for in; each has a trigram index on PostgreSQL.
CLIENT_COLUMNS = (
    Client.first_name,
    Client.last_name,
    Client.company,
    Client.email,
    Client.phone,
    Client.inn,
)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_CLIENT_ID = re.compile(r"#(\d{1,12})")
_INN_LENGTHS = (10, 12)
#: Invoice numbers are short, contain a digit and no space ("2026-000123", "К-2026-000001").
_NUMBER = re.compile(r"\S*\d\S*")
_NUMBER_LENGTH = 40
_LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class SearchText:
    """What was typed in a search box, trimmed, and the message to show when it is refused."""

    text: str
    problem: str | None = None

    def __bool__(self) -> bool:
        return bool(self.text)


def parse(raw: Any) -> SearchText:
    """``args.get("q")`` as a ``SearchText``: blank is no search; a text longer than
    ``MAX_LENGTH`` is refused with a message (the list shows nothing rather than everything)."""
    text = " ".join(str(raw or "").split())
    if len(text) > MAX_LENGTH:
        return SearchText(
            text[:MAX_LENGTH],
            _("The search text is too long: at most %(count)d characters.", count=MAX_LENGTH),
        )
    return SearchText(text)


def from_args(args: Any) -> SearchText:
    """The ``q`` argument of a list page; a refused text is flashed, shown above the list."""
    search = parse(args.get("q"))
    if search.problem:
        flash(search.problem, "warning")
    return search


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards made literal: ``50%`` finds "50%", not "500"."""
    for char in (_LIKE_ESCAPE, "%", "_"):
        text = text.replace(char, _LIKE_ESCAPE + char)
    return text


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, any case: ``ILIKE '%text%'`` (SQLite: ``lower() LIKE``, with
    the Unicode ``lower`` registered in portal/core/app.py), the form a trigram index serves."""
    return column.ilike(f"%{escape_like(text)}%", escape=_LIKE_ESCAPE)


def words(search: SearchText) -> list[str]:
    return search.text.split()[:MAX_WORDS]


def client_text_condition(search: SearchText) -> ColumnElement[bool]:
    """Every word occurs in one of the client's searchable columns (a bare number may also be
    the client's id)."""
    conditions = []
    for word in words(search):
        alternatives = [contains(column, word) for column in CLIENT_COLUMNS]
        if (client_id := db_id(word)) is not None:
            alternatives.append(Client.id == client_id)
        conditions.append(or_(*alternatives))
    return and_(*conditions) if conditions else true()


def _exists(condition: ColumnElement[bool]) -> bool:
    return db.session.scalar(select(Client.id).where(condition).limit(1)) is not None


def invoice_owner(text: str) -> int | None:
    """The client of the invoice numbered ``text`` (an equality on the unique number), if any."""
    from portal.invoicing.models import Invoice

    if len(text) > _NUMBER_LENGTH or not _NUMBER.fullmatch(text):
        return None
    return db.session.scalar(
        select(Invoice.client_id).where(Invoice.number.in_({text, text.upper()})).limit(1)
    )


def exact_client_condition(search: SearchText) -> ColumnElement[bool] | None:
    """The exact path for an identifier typed whole, or None when ``search`` is not one or
    nothing matches it exactly (then the words are searched)."""
    text = search.text
    if match := _CLIENT_ID.fullmatch(text):
        return Client.id == (db_id(match[1]) or 0)
    if _EMAIL.fullmatch(text):
        by_email = Client.email == normalise_email(text)
        if _exists(by_email):
            return by_email
    if text.isascii() and text.isdigit() and len(text) in _INN_LENGTHS:
        by_inn = Client.inn == text
        if _exists(by_inn):
            return by_inn
    if (owner := invoice_owner(text)) is not None:
        return Client.id == owner
    return None


def client_condition(search: SearchText) -> ColumnElement[bool]:
    """The WHERE clause of a client search box: the exact path when there is one, else the
    words; nothing at all for a refused text."""
    if search.problem:
        return false()
    if not search:
        return true()
    exact = exact_client_condition(search)
    return exact if exact is not None else client_text_condition(search)


def client_ids(search: SearchText) -> Any:
    """``SELECT client.id`` for ``search``, for lists of other rows that belong to clients."""
    return select(Client.id).where(client_condition(search))


def invoice_condition(search: SearchText) -> ColumnElement[bool]:
    """The invoice list's box: an invoice number typed whole is that invoice; a bare number is
    also the client's id; otherwise part of the number (trigram index) or of the client."""
    from portal.invoicing.models import Invoice

    if search.problem:
        return false()
    if not search:
        return true()
    text = search.text
    if len(text) <= _NUMBER_LENGTH and _NUMBER.fullmatch(text):
        by_number = Invoice.number.in_({text, text.upper()})
        if db.session.scalar(select(Invoice.id).where(by_number).limit(1)) is not None:
            return by_number
    alternatives = [Invoice.client_id.in_(client_ids(search))]
    if " " not in text:
        alternatives.append(contains(Invoice.number, text))
    if (client_id := db_id(text.lstrip("#"))) is not None:
        alternatives.append(Invoice.client_id == client_id)
    return or_(*alternatives)
