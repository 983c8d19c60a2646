"""Notifications from payment gateways (server to server): no session, no CSRF token — each
gateway verifies its own signature in ``handle_callback``."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from portal.invoicing.gateways import gateways

gateway_callbacks = Blueprint("gateway_callbacks", __name__, url_prefix="/gateways")


@gateway_callbacks.route("/<name>/callback", methods=["POST"])
def callback(name: str) -> Response:
    gateway = gateways().get(name)
    if gateway is None:
        abort(404)
    result = gateway.handle_callback(request.form, dict(request.headers))
    return Response(result.body, status=result.status, mimetype="text/plain")
