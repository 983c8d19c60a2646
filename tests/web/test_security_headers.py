"""Every response carries the security headers, and no page carries code the Content-Security-
Policy would block (inline scripts, event handlers, style attributes): a crawler reads the admin
and client areas of the demo signed in, and the public pages. docs/security.md, "Headers"."""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.test import TestResponse

from portal.platform import demo
from portal.testing.crawl import crawl
from portal.testing.web import WebClient
from portal.web.security_headers import CONTENT_SECURITY_POLICY

PUBLIC = ("/login", "/admin/login", "/register", "/no-such-page", "/admin/no-such-page")


def _assert_headers(url: str, response: TestResponse) -> None:
    headers = response.headers
    assert headers.get("Content-Security-Policy") == CONTENT_SECURITY_POLICY, url
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert headers.get("X-Frame-Options") == "DENY", url
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("Referrer-Policy") == "same-origin", url
    assert "Strict-Transport-Security" not in headers, url  # the tests serve plain HTTP


def test_every_page_has_the_headers_and_no_inline_code(app: Flask, clock) -> None:
    demo.load_demo_data(clock)
    anonymous: WebClient = app.test_client()  # type: ignore[assignment]
    for url in PUBLIC:
        _assert_headers(url, anonymous.get(url))
    pages = 0
    for area, sign_in in (("/admin/", "sign_in_staff"), ("/", "sign_in_client")):
        web: WebClient = app.test_client()  # type: ignore[assignment]
        web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
        credentials = demo.DEMO_STAFF if area == "/admin/" else demo.DEMO_CLIENT
        getattr(web, sign_in)(*credentials)
        for crawled in crawl(web, area, area, max_pages=120):
            _assert_headers(crawled.url, crawled.response)
            if crawled.page is not None:
                pages += 1
                assert crawled.page.inline == [], (crawled.url, crawled.page.inline)
    assert pages > 60


def test_the_shell_scripts_are_served_from_the_portal(web: WebClient) -> None:
    page = web.get("/admin/login").get_data(as_text=True)
    assert "/assets/portal.js" in page and "/assets/portal.css" in page
    assert "cdn." not in page and "https://" not in page  # Bootstrap is served locally
    script = web.get("/assets/portal.js")
    assert script.status_code == 200 and "data-confirm" in script.get_data(as_text=True)


def test_hsts_only_over_https(make_app) -> None:  # type: ignore[no-untyped-def]
    secure = make_app(session_cookie_secure=True).test_client()
    assert (
        secure.get("/admin/login")
        .headers["Strict-Transport-Security"]
        .startswith("max-age=63072000")
    )


def test_a_printable_document_loads_its_styles_from_a_file(app: Flask, clock) -> None:
    """The CSP forbids inline styles, so the printable invoice links its stylesheet, which the
    shell serves: without it the page prints unstyled."""
    demo.load_demo_data(clock)
    web: WebClient = app.test_client()  # type: ignore[assignment]
    web.sign_in_client(*demo.DEMO_CLIENT)
    invoices = web.get("/invoices").get_data(as_text=True)
    invoice_id = re.search(r'href="/invoices/(\d+)"', invoices).group(1)
    page = web.get(f"/invoices/{invoice_id}/print").get_data(as_text=True)
    assert "<style" not in page
    (href,) = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    stylesheet = web.get(href)
    assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"
    assert "border-collapse" in stylesheet.get_data(as_text=True)
