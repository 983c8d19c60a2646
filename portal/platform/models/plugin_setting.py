"""Settings of plugins, one row per (plugin, key), edited on the admin Plugins page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.model_base import Base


class PluginSetting(Base):
    """One setting of one plugin. A secret (a password, an API token) is stored encrypted:
    ``value`` then holds the Fernet token and ``encrypted`` is true (see portal.core.encryption)."""

    __tablename__ = "plugin_setting"
    __table_args__ = (UniqueConstraint("plugin", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
