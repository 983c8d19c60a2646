"""Is the request for a static file? Such requests must not touch the database (issue #17):
no settings, no session identity, no plugin refresh — the hooks that run on every request ask
this first."""

from __future__ import annotations

from flask import has_request_context, request

#: ``static`` (/assets), ``theme_static``, and any blueprint's ``<name>.static`` (Bootstrap's).
STATIC_ENDPOINTS = frozenset({"static", "theme_static"})


def is_static_request() -> bool:
    if not has_request_context():
        return False
    endpoint = request.endpoint or ""
    return endpoint in STATIC_ENDPOINTS or endpoint.endswith(".static")
