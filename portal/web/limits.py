"""Named rate limits on top of Flask-Limiter, their values read from the settings.

The counters live where ``ratelimit_storage_uri`` / ``redis_url`` say (portal.core.settings):
Redis when several processes serve the portal, so that every worker counts in the same
bucket. The client's address is ``request.remote_addr``, which the ``proxy_hops`` setting makes
the real client's behind a reverse proxy. See docs/security.md, "Sign-in limits".

The limits of :func:`from_setting` count form posts only, so a GET of the sign-in page (the
cheapest page, issue #17) goes past Flask-Limiter altogether: the decorated view is called
without the limiter's wrapper, and :func:`_nothing_to_count` exempts the request from the
limiter's own per-request check. Only a view limited on every method (:func:`api_limit`) is
checked on GET, HEAD and OPTIONS (docs/performance.md, "The floor").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
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


_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_EVERY_METHOD = "portal_limited_on_every_method"  # set on a view by api_limit
_PLAIN = "portal_view_without_limits"  # the view under the limits of from_setting
_LIMITED = "portal_view_with_limits"  # the same view wrapped by Flask-Limiter's decorators


@limiter.request_filter
def _nothing_to_count() -> bool:
    """Skip the limiter's checks for a read unless its view is limited on every method."""
    if request.method not in _READS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, _EVERY_METHOD, False)


def from_setting(
    setting: str,
    *,
    key: Callable[[], str],
    scope: str,
    count: Callable[[Response], bool] | None = None,
    exempt_when: Callable[[], bool] | None = None,
    error_message: Callable[[], str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A limit on POSTs of the decorated view, its value from setting ``setting``, counted per
    ``key`` in a bucket per ``scope`` and endpoint; ``count`` picks the answers that count
    (:func:`failed`, :func:`accepted`; None: every one). Several stack: a POST passes through
    Flask-Limiter's decorators as if they were applied directly, any other method reaches the
    view without them."""
    decorate = limiter.limit(
        lambda: current_app.config["PORTAL"][setting],
        key_func=key,
        methods=["POST"],
        deduct_when=count,
        exempt_when=exempt_when,
        error_message=error_message,
        scope=lambda endpoint: f"{scope}:{endpoint}",
    )

    def apply(view: Callable[..., Any]) -> Callable[..., Any]:
        plain = getattr(view, _PLAIN, view)
        limited = decorate(getattr(view, _LIMITED, view))

        @wraps(plain)
        def dispatch(*args: Any, **kwargs: Any) -> Any:
            return (limited if request.method == "POST" else plain)(*args, **kwargs)

        setattr(dispatch, _PLAIN, plain)
        setattr(dispatch, _LIMITED, limited)
        return dispatch

    return apply


def api_limit(
    key: Callable[[], str] = client_address,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The named limit ``api`` (setting ``api_rate_limit``) for the API's views: one bucket
    per ``key`` (the caller's token, else the address) shared by every view it decorates,
    counting every method."""
    decorate = limiter.shared_limit(
        lambda: current_app.config["PORTAL"]["api_rate_limit"], scope="api", key_func=key
    )

    def apply(view: Callable[..., Any]) -> Callable[..., Any]:
        limited = decorate(view)
        setattr(limited, _EVERY_METHOD, True)
        return limited

    return apply
