"""Sign-in for both areas and the client's registration and password reset."""

from portal.accounts.auth.views import admin_auth, client_auth

__all__ = ["admin_auth", "client_auth"]
