"""E-mail templates staff edited: subject and body per template name and language.

The built-in texts live in code (``portal.messaging.templates``); a row here replaces one of them
for one language, and deleting the row restores the built-in text.
"""

from __future__ import annotations

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.model_base import Base, TimestampMixin


class MailTemplate(TimestampMixin, Base):
    __tablename__ = "mail_template"
    __table_args__ = (UniqueConstraint("name", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
