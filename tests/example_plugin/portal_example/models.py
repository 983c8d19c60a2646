"""The plugin's own table: the name starts with the plugin's name, ``example_``."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.plugin_api import Base


class Greeting(Base):
    __tablename__ = "example_greeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
