"""The queue of issued documents whose PDF is still to be rendered and stored
(``portal.invoicing.stored_documents``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.model_base import Base, UTCDateTime


class DocumentRender(Base):
    """One document to render: queued when its invoice or credit note is issued, deleted once
    its PDF is stored. Unique per document, so issuing twice queues it once."""

    __tablename__ = "document_render"
    __table_args__ = (
        UniqueConstraint("invoice_id", "document"),
        Index("ix_document_render_due", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"))
    #: "invoice" (a credit note's is its correction document) or "act".
    document: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
