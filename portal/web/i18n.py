"""Language choice: the user's preference, then the switcher, then the browser, then the default."""

from __future__ import annotations

import functools

from babel import support
from flask import Request, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.utils import cached_property
from wtforms.i18n import messages_path

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


@functools.cache
def wtforms_translations(locale: str) -> support.Translations:
    """WTForms' own messages ("This field is required.") in ``locale``, read once per process:
    Flask-WTF would find and parse the catalogue file anew on every request that builds a form
    (a tenth of a sign-in page's time, docs/development.md, "Benchmarks")."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class PortalRequest(Request):
    """The request class of the portal: Flask-WTF takes WTForms' translations from the request's
    ``wtforms_translations`` when it is set, so here it is the per-process copy for the
    request's language (looked up on first use; a request without a form never asks)."""

    @cached_property
    def wtforms_translations(self) -> support.Translations:
        return wtforms_translations(str(get_locale()))
