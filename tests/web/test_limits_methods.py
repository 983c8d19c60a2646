"""The sign-in, code and mail limits count form posts only: reading the forms goes past the
limiter (issue #17, the cheapest page) and neither counts nor is refused, while the posts stay
limited; a view under the ``api`` limit is counted on every method (docs/security.md)."""

from __future__ import annotations

from flask import Blueprint

from portal.testing.factories import PASSWORD
from portal.web.limits import api_limit


def test_reading_a_sign_in_form_neither_counts_nor_is_refused(app, client_account) -> None:
    web = app.test_client()
    for _ in range(40):  # more than every sign-in limit (5 per account, 30 per address)
        assert web.get("/login").status_code == 200
        assert web.head("/login").status_code == 200
    bad = {"email": client_account.email, "password": "wrong-password"}
    answers = [web.submit("/login", bad).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]  # the posts counted from zero, and are limited
    right = {"email": client_account.email, "password": PASSWORD}
    assert web.submit("/login", right).status_code == 429
    assert web.get("/login").status_code == 200  # the form still shows
    assert web.get("/password/reset").status_code == 200


def test_the_mail_request_limit_still_counts_posts(make_app) -> None:
    strict = make_app(mail_request_rate_limit_address="2 per 15 minutes")
    with strict.app_context():
        web = strict.test_client()
        for _ in range(5):
            assert web.get("/password/reset").status_code == 200
        asked = [
            web.submit("/password/reset", {"email": f"someone{n}@example.com"}).status_code
            for n in range(3)
        ]
        assert asked == [302, 302, 429]


def test_the_api_limit_counts_every_method(make_app) -> None:
    api = Blueprint("limits_test_api", __name__)

    @api.route("/limits-test/ping", methods=["GET", "POST"])
    @api_limit()
    def ping() -> str:
        return "pong"

    limited = make_app(api_rate_limit="2 per minute")
    limited.register_blueprint(api)
    with limited.app_context():
        web = limited.test_client()
        assert [web.get("/limits-test/ping").status_code for _ in range(3)] == [200, 200, 429]
