"""The language switcher shared by both areas."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, session
from werkzeug.wrappers import Response

from portal.accounts.sign_in import remember_language
from portal.web.i18n import LOCALE_SESSION_KEY, available_locales
from portal.web.identity import Area, identity_for
from portal.web.safe_redirect import is_safe_next

language = Blueprint("language", __name__)


@language.route("/language", methods=["POST"])
def switch() -> Response:
    """Remember the choice in the session and as the preference of whoever is signed in."""
    code = request.form.get("language", "")
    if code not in available_locales():
        abort(400)
    session[LOCALE_SESSION_KEY] = code
    signed_in = (identity_for(area) for area in Area)
    remember_language([account for account in signed_in if account is not None], code)
    target = request.form.get("next", "")
    return redirect(target if is_safe_next(target) else "/")
