"""Documents plugins add to an invoice (the ``invoice_attachments`` hook): a call detail
report, a usage statement. They are listed on the invoice page of both areas, downloaded through
the core's own routes (so the client area's scoping and the admin's permission are the
invoice's), and attached to every e-mail that attaches the invoice's PDF, rendered when the
outbox delivers it, in the client's language. See docs/hooks.md, ``invoice_attachments``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale

from portal.accounts.models import Client
from portal.core.app_state import plugins
from portal.core.extensions import db
from portal.invoicing.models import Invoice, InvoiceStatus
from portal.messaging import templates

#: What a name may hold: it is the last part of the download's URL.
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,59}")


@dataclass(frozen=True)
class InvoiceAttachment:
    """A document that goes with an invoice, returned by a plugin's ``invoice_attachments``.

    ``name`` is unique among the invoice's attachments and ends its download URL
    (``/invoices/<id>/attachments/<name>`` in the client area,
    ``/admin/billing/invoices/<id>/attachments/<name>`` for staff): lower-case letters, digits,
    ``.``, ``_`` and ``-``. ``label`` is the link's text (a lazy translation); ``filename`` the
    name the file is saved and mailed under. ``render()`` returns the bytes: called only when
    the file is downloaded or the e-mail delivered, in the locale of who gets it, so keep
    finding the attachments cheap and do the work in ``render``.
    """

    name: str
    label: Any
    filename: str
    content_type: str
    render: Callable[[], bytes]

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name):
            raise ValueError(f"invoice attachment name {self.name!r} is not [a-z0-9._-]")

    @property
    def inline(self) -> bool:
        """Opened in the browser (a PDF) rather than saved."""
        return self.content_type == "application/pdf"


def attachments_of(invoice: Invoice) -> list[InvoiceAttachment]:
    """The plugins' documents of an issued invoice (none for a draft); the first returned
    under a name wins."""
    if invoice.number is None or invoice.status is InvoiceStatus.DRAFT:
        return []
    found: dict[str, InvoiceAttachment] = {}
    for item in plugins().collect("invoice_attachments", invoice=invoice):
        found.setdefault(item.name, item)
    return list(found.values())


def attachment_named(invoice: Invoice, name: str) -> InvoiceAttachment | None:
    return next((a for a in attachments_of(invoice) if a.name == name), None)


def attachments_for_mail(invoice_id: int) -> list[tuple[str, str, bytes]]:
    """(file name, content type, bytes) of each document of an invoice, rendered in its
    client's language: what the outbox attaches next to the invoice PDF when it delivers the
    mail (registered by ``portal.invoicing.mail``)."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise LookupError(f"invoice #{invoice_id} does not exist")
    client = db.session.get(Client, invoice.client_id)
    with force_locale(templates.locale_of(client)):
        return [(a.filename, a.content_type, a.render()) for a in attachments_of(invoice)]
