"""Sign-in for both areas and the client's registration and password reset."""

from portal.web.auth.views import admin_auth, client_auth

__all__ = ["admin_auth", "client_auth"]
