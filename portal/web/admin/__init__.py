"""The staff admin area (``/admin``)."""

from portal.web.admin.views import admin

__all__ = ["admin"]
