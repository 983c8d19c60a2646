"""Named rate limits on top of Flask-Limiter, their values read from the settings.

The counters live where ``ratelimit_storage_uri`` / ``redis_url`` say (portal.core.settings):
Redis when several processes serve the portal, so that every worker counts in the same
bucket. The client's address is ``request.remote_addr``, which the ``proxy_hops`` setting makes
the real client's behind a reverse proxy. See docs/security.md, "Sign-in limits".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request
from werkzeug.wrappers import Response

from portal.core.extensions import limiter


def client_address() -> str:
    """The address the request came from (the proxy's ``X-Forwarded-For`` as configured)."""
    return request.remote_addr or "unknown"


def failed(response: Response) -> bool:
    """A form answers with a redirect when it was accepted (signed in, mail queued)."""
    return response.status_code != 302


def accepted(response: Response) -> bool:
    return response.status_code == 302


def from_setting(
    setting: str,
    *,
    key: Callable[[], str],
    scope: str,
    count: Callable[[Response], bool] | None = None,
    exempt_when: Callable[[], bool] | None = None,
    error_message: Callable[[], str] | None = None,
) -> Any:
    """A limit on POSTs of the decorated view, its value from setting ``setting``, counted per
    ``key`` in a bucket per ``scope`` and endpoint; ``count`` picks the answers that count
    (:func:`failed`, :func:`accepted`; None: every one)."""
    return limiter.limit(
        lambda: current_app.config["PORTAL"][setting],
        key_func=key,
        methods=["POST"],
        deduct_when=count,
        exempt_when=exempt_when,
        error_message=error_message,
        scope=lambda endpoint: f"{scope}:{endpoint}",
    )


def api_limit(key: Callable[[], str] = client_address) -> Any:
    """The named limit ``api`` (setting ``api_rate_limit``) for the API's views: one bucket
    per ``key`` (the caller's token, else the address) shared by every view it decorates."""
    return limiter.shared_limit(
        lambda: current_app.config["PORTAL"]["api_rate_limit"], scope="api", key_func=key
    )
