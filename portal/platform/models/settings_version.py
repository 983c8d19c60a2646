"""One row whose token changes whenever a runtime setting does (portal.platform.runtime_settings).

Every process caches the runtime settings and compares this token (on every admin page and form,
at most once a second on other pages): a change made by any worker or host is seen that soon.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.model_base import Base


class SettingsVersion(Base):
    __tablename__ = "settings_version"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
