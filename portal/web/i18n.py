"""Language choice: the user's preference, then the switcher, then the browser, then the default."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user

LOCALE_SESSION_KEY = "locale"


def available_locales() -> list[str]:
    return list(current_app.config["PORTAL"]["locales"])


def select_locale() -> str:
    if not has_request_context():  # jobs and commands: the default, unless force_locale is used
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    locales = available_locales()
    preferred = getattr(current_user, "language", None)
    if preferred in locales:
        return preferred
    chosen = session.get(LOCALE_SESSION_KEY)
    if chosen in locales:
        return chosen
    browser = request.accept_languages.best_match(locales)
    return browser or current_app.config["BABEL_DEFAULT_LOCALE"]
