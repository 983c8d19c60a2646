"""Issued documents rendered once: their PDFs stored as private files, downloads stream them.

Rendering a PDF costs 65 ms (350 ms for four pages) of a web worker; an issued document does
not change, so its PDF is rendered once, in the background, and kept. Issuing an invoice or a
credit note (by hand or in a billing run) queues a ``document_render`` row in the issuing
transaction; the ``documents.render`` job claims due rows (``portal.core.work_queue``: a
conditional UPDATE per row, so two workers never render the same document) and stores the PDF
in the client's language. A download looks for the stored file and renders (and stores) only
when it is missing: not rendered yet, another language, or the figures changed.

What may change after issue is what the invoice says about payment (paid, due, "Оплачено").
Files are therefore keyed by a *version*: a digest of the document's printed data (every figure,
date and party on the page) and of ``LAYOUT``. A payment changes the data, so the next download
finds no file for the new version, renders it and stores it next to the old one; a stored PDF
is never stale. See docs/documents.md, "Stored PDFs".
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.accounts.models import Client
from portal.core.extensions import db
from portal.core.private_files import make_private_dir, open_private_file
from portal.core.work_queue import backoff, claim_due
from portal.documents.data import ActDocument, CorrectionDocument, InvoiceDocument
from portal.documents.render import act_pdf, correction_pdf, invoice_pdf
from portal.invoicing import invoice_documents
from portal.invoicing.models import DocumentRender, Invoice, InvoiceKind, InvoiceStatus
from portal.messaging import templates

#: Bump when the templates or the renderer change what a PDF looks like: every stored file
#: then belongs to an old version and is rendered again on its next download.
LAYOUT = "1"
#: A claimed render not finished by then (its worker died) is taken by another worker.
LEASE = timedelta(minutes=10)
#: Renders that failed this many times are left for the download fallback.
MAX_ATTEMPTS = 5

INVOICE = "invoice"
ACT = "act"

#: What a stored PDF prints.
Document = InvoiceDocument | ActDocument | CorrectionDocument


def root() -> Path:
    return Path(current_app.instance_path) / "documents"


def _document(invoice: Invoice, document: str, language: str) -> Document:
    if document == ACT:
        return invoice_documents.act_document(invoice, language)
    if invoice.kind is InvoiceKind.CREDIT_NOTE:
        return invoice_documents.correction_document(invoice, language)
    return invoice_documents.invoice_document(invoice, language)


def _render(data: Document) -> bytes:
    if isinstance(data, ActDocument):
        return act_pdf(data)
    if isinstance(data, CorrectionDocument):
        return correction_pdf(data)
    return invoice_pdf(data)


def version(data: Document) -> str:
    """The digest of what the page prints: equal data, equal PDF."""
    return hashlib.sha256(f"{LAYOUT}\n{data!r}".encode()).hexdigest()[:32]


def path_of(invoice_id: int, document: str, language: str, data: Document) -> Path:
    return root() / str(invoice_id) / f"{document}-{language}-{version(data)}.pdf"


def _store(path: Path, pdf: bytes) -> None:
    """Write to a private temporary file and rename it into place: a reader sees the whole file
    or none, and two writers of the same version (equal bytes) do no harm."""
    make_private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    with open_private_file(temporary) as fh:
        fh.write(pdf)
    os.replace(temporary, path)


def stored_pdf(invoice: Invoice, document: str = INVOICE, language: str = "ru") -> bytes:
    """The PDF of an issued invoice, credit note (``INVOICE``) or act (``ACT``) in
    ``language``: the stored file, else rendered now and stored. Never for a draft: building
    the document refuses one (``ValueError``), before anything is stored."""
    data = _document(invoice, document, language)
    path = path_of(invoice.id, document, language, data)
    with contextlib.suppress(FileNotFoundError):
        return path.read_bytes()
    pdf = _render(data)
    _store(path, pdf)
    return pdf


def queue_renders(invoice_ids: Iterable[int], now: datetime, document: str = INVOICE) -> None:
    """Queue the PDFs of just-issued documents in one statement, in the caller's transaction
    (no commit): the rendering happens in the ``documents.render`` job, never in the issuing
    request. A document already queued stays queued once."""
    rows = [
        {"invoice_id": invoice_id, "document": document, "attempts": 0, "next_attempt_at": now}
        for invoice_id in invoice_ids
    ]
    if not rows:
        return
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    db.session.execute(
        insert(DocumentRender).on_conflict_do_nothing(index_elements=["invoice_id", "document"]),
        rows,
    )


def render_due(now: datetime, *, limit: int = 200) -> dict[str, int]:
    """Render and store the queued documents this worker claims, in their client's language.
    Several workers (processes, hosts) share a large run: each row is claimed by one."""
    due = (DocumentRender.attempts < MAX_ATTEMPTS) & (DocumentRender.next_attempt_at <= now)
    rendered = failed = 0
    for row_id in claim_due(DocumentRender, due, now=now, limit=limit, lease=LEASE):
        row = db.session.get(DocumentRender, row_id)
        if row is None:
            continue
        invoice = db.session.get(Invoice, row.invoice_id)
        try:
            if invoice is not None and invoice.status is not InvoiceStatus.DRAFT:
                client = db.session.get(Client, invoice.client_id)
                stored_pdf(invoice, row.document, templates.locale_of(client))
        except Exception:  # one bad document must not stop the run
            current_app.logger.exception("rendering document %s failed", row_id)
            row.next_attempt_at = now + backoff(row.attempts, timedelta(minutes=5), LEASE * 6)
            failed += 1
        else:
            db.session.execute(delete(DocumentRender).where(DocumentRender.id == row_id))
            rendered += 1
        db.session.commit()
    return {"rendered": rendered, "failed": failed}


def pending() -> list[int]:
    """Ids of the invoices whose documents are still queued (for tests and the admin)."""
    return list(db.session.scalars(select(DocumentRender.invoice_id).order_by(DocumentRender.id)))
