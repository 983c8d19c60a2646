"""A crawler for tests: the pages of an area reachable from a start page, with their forms and
the inline code they carry (docs/security.md: "Headers", "Input bounds")."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urlsplit

from werkzeug.test import TestResponse

from portal.testing.web import WebClient

#: Links a crawler does not follow: they sign out, switch identity or download files.
SKIPPED_LINKS = re.compile(
    r"logout|login-as|impersonation|/delete|/static/|/assets/|\.pdf\b|/pdf\b|/act\b|/download"
)


@dataclass
class FormInfo:
    """A ``<form>`` as a browser would submit it untouched."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> the value sent as it is
    names: list[str] = field(default_factory=list)  # every named control, checked or not
    choices: set[str] = field(default_factory=set)  # selects, checkboxes and radio buttons
    files: list[str] = field(default_factory=list)


class PageParser(HTMLParser):
    """Links, forms and what a strict Content-Security-Policy would block on a page."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[FormInfo] = []
        self.inline: list[str] = []  # inline scripts, event handlers, style attributes
        self._form: FormInfo | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None
        self._script_inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name.startswith("on") or name == "style":
                self.inline.append(f"<{tag} {name}={value[:60]!r}>")
            if name in ("href", "action", "src") and value.strip().lower().startswith(
                "javascript:"
            ):
                self.inline.append(f"<{tag} {name}={value[:60]!r}>")
        if tag == "script":
            self._script_inline = "src" not in values
        elif tag == "style":
            self.inline.append("<style> element")
        elif tag == "a" and values.get("href"):
            self.links.append(values["href"])
        elif tag == "form":
            self._form = FormInfo(
                action=values.get("action") or self.url, method=values.get("method", "get").lower()
            )
            self.forms.append(self._form)
        elif self._form is not None and "name" in values:
            self._control(tag, values)

    def _control(self, tag: str, values: dict[str, str]) -> None:
        assert self._form is not None
        name, kind = values["name"], values.get("type", "text").lower()
        if tag == "input":
            if kind in ("submit", "button", "image", "reset"):
                return
            self._form.names.append(name)
            if kind in ("checkbox", "radio"):
                self._form.choices.add(name)
            if kind == "file":
                self._form.files.append(name)
            elif kind not in ("checkbox", "radio") or "checked" in values:
                self._form.fields.setdefault(name, values.get("value", "on" if kind else ""))
        elif tag == "select":
            self._form.names.append(name)
            self._form.choices.add(name)
            self._select, self._select_first = name, None
        elif tag == "option" and self._select:
            value = values.get("value", "")
            if self._select_first is None:
                self._select_first = value
                self._form.fields.setdefault(self._select, value)
            if "selected" in values:
                self._form.fields[self._select] = value
        elif tag == "textarea":
            self._form.names.append(name)
            self._textarea = name
            self._form.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "script":
            self._script_inline = False

    def handle_data(self, data: str) -> None:
        if self._script_inline and data.strip():
            self.inline.append(f"<script>{data.strip()[:60]}")
        if self._textarea and self._form is not None:
            self._form.fields[self._textarea] += data


@dataclass
class CrawledPage:
    url: str
    response: TestResponse
    page: PageParser | None  # None for what is not HTML


def _shape(url: str) -> tuple[str, frozenset[str]]:
    """Pages that differ only in query values (page=2, sort=...) are one page to the crawler."""
    parts = urlsplit(url)
    return parts.path, frozenset(key for key, _value in parse_qsl(parts.query))


def crawl(web: WebClient, start: str, area: str, max_pages: int = 200) -> Iterator[CrawledPage]:
    """GET every same-site link under ``area`` reachable from ``start``, at most ``max_pages``."""
    queue, seen, read = deque([start]), {_shape(start)}, 0
    while queue and read < max_pages:
        url = queue.popleft()
        response = web.get(url)
        read += 1
        if response.status_code != 200 or response.mimetype != "text/html":
            yield CrawledPage(url, response, None)
            continue
        page = PageParser(url)
        page.feed(response.get_data(as_text=True))
        yield CrawledPage(url, response, page)
        for href in page.links:
            link = urldefrag(href)[0]
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith(area):
                continue
            if not SKIPPED_LINKS.search(link) and _shape(link) not in seen:
                seen.add(_shape(link))
                queue.append(link)
