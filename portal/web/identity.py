"""Separate identities for the two areas, on top of Flask-Login.

Flask-Login keeps one user per session; we need two that never leak into each other (a staff
member may sign in as a client in another tab). So each area keeps its own session key, and
Flask-Login's ``current_user`` is whoever is signed in *for the area of the blueprint serving the
request*: a staff session means nothing to a client-area view and vice versa.

Which model signs in to which area is not the shell's business: the accounts area registers it
(:func:`register_accounts`), so the shell imports no area.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Protocol

from flask import Flask, Request, current_app, redirect, request, session, url_for
from flask_login import AnonymousUserMixin
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from portal.core.extensions import db, login_manager
from portal.web.safe_redirect import is_safe_next


class Area(enum.StrEnum):
    ADMIN = "admin"
    CLIENT = "client"


class Account(Protocol):
    """What the shell needs of an account that signs in (a staff member, a client)."""

    id: Any
    session_token: Any
    is_active: Any

    @property
    def session_identity(self) -> str: ...


SESSION_KEYS = {Area.ADMIN: "_staff", Area.CLIENT: "_client"}
LOGIN_ENDPOINTS = {Area.ADMIN: "admin_auth.login", Area.CLIENT: "client_auth.login"}
_MODELS = "portal.web.identity"


def register_accounts(app: Flask, models: Mapping[Area, type[Account]]) -> None:
    """Name the model whose rows sign in to each area (the accounts area does, at start)."""
    app.extensions[_MODELS] = dict(models)


def account_model(area: Area) -> type[Account]:
    """The model of the accounts that sign in to ``area``."""
    return current_app.extensions[_MODELS][area]


def request_area(req: Request | None = None) -> Area | None:
    """The area of the blueprint serving the request (``bp.portal_area``), or None."""
    req = req or request
    if not req.blueprint:
        return None
    blueprint = current_app.blueprints.get(req.blueprint.split(".")[0])
    area = getattr(blueprint, "portal_area", None)
    return Area(area) if area in ("admin", "client") else None  # "api": no signed-in area


_LOADED = "portal.identity"  # in the WSGI environ: {area: (session value, account)}


def identity_for(area: Area) -> Account | None:
    """The signed-in account of an area, checked against its current session token.

    Loaded once per request (the sign-in check and Flask-Login's ``current_user`` both ask);
    signing in or out changes the session value, so the next call loads again."""
    raw = session.get(SESSION_KEYS[area])
    loaded = request.environ.setdefault(_LOADED, {})
    if area in loaded and loaded[area][0] == raw:
        return loaded[area][1]
    account = _load(area, raw)
    loaded[area] = (raw, account)
    return account


def _load(area: Area, raw: str | None) -> Account | None:
    if not raw or ":" not in raw:
        return None
    user_id, token = raw.split(":", 1)
    if not user_id.isdigit():
        return None
    model = account_model(area)
    # the relations loaded eagerly by a query of their own (a staff member's departments) are
    # joined in: one query on every page instead of two (docs/performance.md, "Per-row work")
    joined = [
        joinedload(relation)
        for relation in sa_inspect(model).relationships
        if relation.lazy == "selectin"
    ]
    account = db.session.get(model, int(user_id), options=joined)
    if account is None or account.session_token != token or not account.is_active:
        return None
    return account


def sign_in(area: Area, account: Account) -> None:
    session[SESSION_KEYS[area]] = account.session_identity
    session.permanent = True


def sign_out(area: Area) -> None:
    session.pop(SESSION_KEYS[area], None)


class Anonymous(AnonymousUserMixin):
    language = None


def _load_for_request(req: Request) -> Any:
    area = request_area(req)
    return identity_for(area) if area else None


def _unauthorized() -> Response:
    area = request_area() or Area.CLIENT
    target = request.full_path if request.method == "GET" else None
    args = {"next": target.rstrip("?")} if target and is_safe_next(target) else {}
    return redirect(url_for(LOGIN_ENDPOINTS[area], **args))


def require_identity() -> Response | None:
    """Secure by default: every view of an area needs that area's sign-in, plugin views too.

    Only blueprints marked ``portal_public = True`` (sign-in, registration) are open.
    """
    area = request_area()
    if area is None or is_public_view() or request.method == "OPTIONS":
        return None
    if identity_for(area) is None:
        return _unauthorized()
    return None


def is_public_view() -> bool:
    """Is the request for a view of a blueprint open to anyone (``portal_public = True``)?"""
    if request.blueprint is None:
        return False
    blueprint = current_app.blueprints[request.blueprint.split(".")[0]]
    return bool(getattr(blueprint, "portal_public", False))


def init_identity(app: Flask) -> None:
    app.before_request(require_identity)
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.request_loader(_load_for_request)
    login_manager.unauthorized_handler(_unauthorized)
    # Flask-Login's own session cookie/remember machinery is not used.
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config["SESSION_PROTECTION"] = None
