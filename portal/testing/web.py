"""A test client that handles CSRF the way a browser does: read the token from the page."""

from __future__ import annotations

import contextvars
import re
from typing import Any

from flask.globals import _cv_app
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.testing.factories import PASSWORD

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token_from(html: str) -> str:
    match = _TOKEN.search(html)
    if not match:
        raise AssertionError("no CSRF token on the page")
    return match.group(1) or match.group(2)


class WebClient(FlaskClient):
    """A test client whose requests behave like real ones.

    Tests run inside an app context (for database access). Flask would reuse that context, and
    its ``g``, for every request made by the test client, so per-request state (the signed-in
    user, the active theme) would leak from one request to the next. Each request here runs in a
    copy of the context variables with no app context, so it gets a fresh one, as in production.

    ``submit`` GETs the form page first, then POSTs with its CSRF token.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        return contextvars.copy_context().run(self._open_fresh, *args, **kwargs)

    def _open_fresh(self, *args: Any, **kwargs: Any) -> TestResponse:
        _cv_app.set(None)  # type: ignore[arg-type]
        return super().open(*args, **kwargs)

    def submit(
        self, url: str, data: dict[str, Any], form_page: str | None = None, **kwargs: Any
    ) -> TestResponse:
        page = self.get(form_page or url)
        token = csrf_token_from(page.get_data(as_text=True))
        return self.post(url, data={**data, "csrf_token": token}, **kwargs)

    def sign_in_staff(self, email: str, password: str = PASSWORD) -> TestResponse:
        response = self.submit("/admin/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def sign_in_client(self, email: str, password: str = PASSWORD) -> TestResponse:
        response = self.submit("/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response
