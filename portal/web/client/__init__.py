"""The client area (``/``), rendered from the active theme."""

from portal.web.client.views import client

__all__ = ["client"]
