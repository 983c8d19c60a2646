"""Two-factor recovery codes: single-use codes that stand in for the authenticator app.

Only a keyed digest of each code is stored (portal.core.encryption.digests), never the code:
the codes are random with about 60 bits each, so a slow password hash would add nothing but
cost at sign-in, and the key means a database dump alone is not enough to test guesses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.model_base import Base, UTCDateTime


class RecoveryCode(Base):
    """One code of a staff member or of a client (exactly one of the two is set)."""

    __tablename__ = "recovery_code"
    __table_args__ = (
        CheckConstraint("(staff_id IS NULL) <> (client_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set when the code is spent (by one conditional UPDATE: a code works once).
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
