"""Security headers on every response: what the browser may load, frame and send elsewhere.

docs/security.md ("Headers") says why each one is there. Pages carry no inline script, event
handler or ``style`` attribute: behaviour lives in ``portal/web/static/portal.js``, looks in
stylesheets, so the policy needs no ``'unsafe-inline'``.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}

#: Two years, the preload list's minimum; sent only when the portal is served over HTTPS
#: (``session_cookie_secure``), since a browser that saw it refuses plain HTTP afterwards.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"

#: The shell's own scripts and styles (``portal.js``, ``portal.css``), served from this app.
assets = Blueprint("web_assets", __name__, static_folder="static", static_url_path="/assets")


@assets.route("/assets/document.css")
def document_stylesheet() -> Response:
    """The printable documents' styles (``portal.documents.render.browser_stylesheet``)."""
    from portal.documents.render import browser_stylesheet

    response = Response(browser_stylesheet(), mimetype="text/css")
    response.cache_control.public, response.cache_control.max_age = True, 3600
    return response


def add_security_headers(response: Response) -> Response:
    """Set the headers a view did not set itself (a view may relax one for its own reason)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


def init_security_headers(app: Flask) -> None:
    app.register_blueprint(assets)
    app.after_request(add_security_headers)
