"""The client area (``/``), rendered from the active theme."""

from portal.accounts.client.views import client

__all__ = ["client"]
