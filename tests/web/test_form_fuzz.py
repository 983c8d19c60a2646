"""No form field and no list filter answers a crafted value with a server error.

A crawler walks the admin area (signed in as the demo administrator) and the client area (the
demo client) on the demo data with an order, an invoice and a ticket, reads every ``<form>``
that posts (one per view), and posts each bad value below to each of its text fields in turn,
the other fields kept as the page filled them, and a few to all its choices at once. Every
answer must be a page (200), a refusal (400, 403, 404, 413) or a redirect — never a 500. List
pages get the same values as ``q``, ``page`` and their other query
arguments. docs/security.md, "Input bounds".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.accounts.models import Client
from portal.core.extensions import db
from portal.platform import demo
from portal.support import tickets
from portal.testing import actions
from portal.testing.crawl import FormInfo, crawl
from portal.testing.web import WebClient, csrf_token_from

#: Numbers str.isdigit(), int() or Decimal() take and a database does not, lookalike digits,
#: special floats, a body too long for any field, a NUL byte (PostgreSQL refuses it in text).
BAD_VALUES = (
    "²",
    "１００",
    "1_000",
    "1e3",
    "1e309",
    "1E+100",
    "9999999999999999999999",
    "-1",
    "NaN",
    "inf",
    "x" * 1_000,
    "x" * 100_001,
    "a\x00b",
    "<script>alert(1)</script>",
)
#: What a select, checkbox or radio button gets: it offers no room for text.
BAD_CHOICES = ("²", "１００", "9999999999999999999999", "-1", "a\x00b")
#: Forms whose success would end the crawl's session or its identity.
SKIPPED_FORMS = re.compile(
    r"logout|login-as|impersonation|/delete|/close\b|password|two-factor|2fa|/login|/register"
    r"|/reset|/language|end-impersonation"
)
ALLOWED = {200, 302, 303, 400, 403, 404, 405, 409, 413}


@pytest.fixture
def demo_site(app: Flask, clock) -> Client:
    """The demo, with a second service and its invoice, and a ticket from the client."""
    demo.load_demo_data(clock)
    client = db.session.scalar(select(Client).where(Client.email == demo.DEMO_CLIENT[0]))
    shop = demo.load_demo_catalogue()
    db.session.commit()
    actions.order_and_accept(client, shop[demo.PBX_DEPARTMENT], today=clock.now().date())
    tickets.open_ticket(subject="Не работает", body="Помогите", department_id=None, client=client)
    return client


def _signed_in(app: Flask, area: str) -> WebClient:
    web: WebClient = app.test_client()  # type: ignore[assignment]
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    if area == "/admin/":
        web.sign_in_staff(*demo.DEMO_STAFF)
    else:
        web.sign_in_client(*demo.DEMO_CLIENT)
    return web


def _forms_and_lists(
    app: Flask, web: WebClient, area: str
) -> tuple[list[FormInfo], list[str], str]:
    """The posting forms (one per view and set of fields: the price form of one product stands
    for every product's) and the pages read, with a CSRF token."""
    routes = app.url_map.bind("localhost")
    forms: dict[tuple[str, tuple[str, ...]], FormInfo] = {}
    urls: list[str] = []
    token = ""
    for crawled in crawl(web, area, area, max_pages=250):
        if crawled.page is None:
            continue
        urls.append(crawled.url)
        html = crawled.response.get_data(as_text=True)
        token = token or (csrf_token_from(html) if "csrf_token" in html else "")
        for form in crawled.page.forms:
            path = urlsplit(form.action).path
            if form.method != "post" or SKIPPED_FORMS.search(path):
                continue
            fuzzed = [n for n in form.names if n != "csrf_token" and n not in form.files]
            if fuzzed:
                endpoint, _args = routes.match(path, method="POST")
                forms.setdefault((endpoint, tuple(fuzzed)), form)
    return list(forms.values()), urls, token


def _status(send: Callable[..., TestResponse], url: str, **kwargs: Any) -> int | str:
    """The status of a request, or the error the app raised (the test app propagates what a
    user would see as a 500)."""
    try:
        return send(url, **kwargs).status_code
    except Exception as error:
        return f"{type(error).__name__}: {str(error)[:200]}"


def _fuzz_forms(web: WebClient, forms: list[FormInfo], token: str) -> Iterator[str]:
    """Each bad value in each typed field in turn; the choices (selects, checkboxes) of a form
    all at once, as they offer no room for text and are read alike."""
    for form in forms:
        skipped = {"csrf_token", *form.choices, *form.files}
        typed = [n for n in dict.fromkeys(form.names) if n not in skipped]
        posts = [
            *(({name: bad}, f"{name}={bad[:30]!r}") for name in typed for bad in BAD_VALUES),
            *(
                (dict.fromkeys(form.choices, bad), f"choices={bad!r}")
                for bad in (BAD_CHOICES if form.choices else ())
            ),
        ]
        for values, label in posts:
            data = {**form.fields, **values, "csrf_token": token}
            status = _status(web.post, form.action, data=data)
            if status not in ALLOWED:
                yield f"POST {form.action} {label}: {status}"


def _fuzz_lists(web: WebClient, urls: list[str]) -> Iterator[str]:
    seen: set[str] = set()
    for url in urls:
        parts = urlsplit(url)
        keys = {"q", "page", *(key for key, _value in parse_qsl(parts.query))}
        if parts.path in seen:
            continue
        seen.add(parts.path)
        for key in sorted(keys):
            for bad in BAD_VALUES:
                if len(bad) > 1000:
                    continue  # a URL that long is the server's to refuse
                target = f"{parts.path}?{urlencode({key: bad})}"
                status = _status(web.get, target)
                if status not in ALLOWED:
                    yield f"GET {target[:120]}: {status}"


@pytest.mark.parametrize("area", ["/admin/", "/"], ids=["admin", "client"])
def test_crafted_values_never_cause_a_server_error(
    app: Flask, demo_site: Client, area: str
) -> None:
    web = _signed_in(app, area)
    forms, urls, token = _forms_and_lists(app, web, area)
    assert len(forms) > (40 if area == "/admin/" else 8), [f.action for f in forms]
    failures = [*_fuzz_lists(web, urls), *_fuzz_forms(web, forms, token)]
    assert not failures, "\n".join(failures)
