"""A crawler for tests: the pages of an area reachable from a start page, with their forms and
the inline code they carry (docs/security.md: "Headers", "Input bounds")."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit

from babel.messages.pofile import read_po
from werkzeug.test import TestResponse

import portal
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


#: Elements whose text is not the interface's words: code, and literal identifiers in
#: ``<code>`` (the variables a mail template may use, a setting's key).
HIDDEN_TEXT = ("script", "style", "template", "code", "kbd", "samp", "pre")


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
        self.texts: list[str] = []  # the visible text, one entry per text node or label
        #: Text inside an element whose ``lang`` differs from the page's (a document in the
        #: client's language, a template's preview): checked for raw keys and numbers only.
        self.foreign: list[str] = []
        self.lang = ""
        self._hidden = 0
        self._langs: list[tuple[str, str]] = []  # (tag, lang) of the open elements with one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name.startswith("on") or name == "style":
                self.inline.append(f"<{tag} {name}={value[:60]!r}>")
            if name in ("href", "action", "src") and value.strip().lower().startswith(
                "javascript:"
            ):
                self.inline.append(f"<{tag} {name}={value[:60]!r}>")
        if tag in HIDDEN_TEXT:
            self._hidden += 1
        if "lang" in values:
            if tag == "html":
                self.lang = values["lang"]
            else:
                self._langs.append((tag, values["lang"]))
        for name in ("placeholder", "title", "aria-label", "alt"):
            if values.get(name, "").strip():
                self._text(values[name])
        if (
            tag == "input"
            and values.get("type", "").lower() in ("submit", "button")
            and values.get("value", "").strip()
        ):
            self._text(values["value"])
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
        if tag in HIDDEN_TEXT and self._hidden:
            self._hidden -= 1
        if self._langs and self._langs[-1][0] == tag:
            self._langs.pop()
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
        elif not self._hidden and data.strip():
            self._text(data)

    def _text(self, data: str) -> None:
        text = " ".join(data.split())
        foreign = self._langs and self._langs[-1][1].split("-")[0] != self.lang.split("-")[0]
        (self.foreign if foreign else self.texts).append(text)

    @property
    def text(self) -> str:
        """The visible text as one string (text nodes joined by a space)."""
        return " ".join(self.texts)


@dataclass
class CrawledPage:
    url: str
    response: TestResponse
    page: PageParser | None  # None for what is not HTML


def _shape(url: str) -> tuple[str, frozenset[str]]:
    """Pages that differ only in query values (page=2, sort=...) are one page to the crawler."""
    parts = urlsplit(url)
    return parts.path, frozenset(key for key, _value in parse_qsl(parts.query))


def _form_url(form: FormInfo) -> str:
    """The URL a browser opens when a GET form is submitted untouched."""
    action = urldefrag(form.action)[0]
    query = urlencode(
        [(name, value) for name, value in form.fields.items() if name != "csrf_token"]
    )
    return f"{action.split('?')[0]}?{query}" if query else action.split("?")[0]


def crawl(
    web: WebClient,
    start: str,
    area: str,
    max_pages: int = 200,
    *,
    get_forms: bool = False,
) -> Iterator[CrawledPage]:
    """GET every same-site link under ``area`` reachable from ``start``, at most ``max_pages``;
    with ``get_forms``, also the GET forms (filters, searches) submitted as they stand."""
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
        targets = [urldefrag(href)[0] for href in page.links]
        if get_forms:
            targets += [_form_url(form) for form in page.forms if form.method == "get"]
        for link in targets:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith(area):
                continue
            if not SKIPPED_LINKS.search(link) and _shape(link) not in seen:
                seen.add(_shape(link))
                queue.append(link)


# --- what a page must not show (docs/development.md: "The language crawler") -----------------

#: A Decimal printed as it is: a dot decimal with two digits or more (or one after four digits
#: or more), standing alone: not a date (02.11.2026), a version (0.2.28) or an IP address.
RAW_NUMBER = re.compile(r"(?<![\w.,:/-])(?:\d+\.\d{2,}|\d{4,}\.\d)(?![\w.,:/-]*\d)")
#: English digits: a Decimal's trailing zeros past the cents ("500.0000", "1,237.9600") or a
#: thousand without its separator ("23736.26").
RAW_NUMBER_EN = re.compile(r"(?<![\w.,:/-])(?:[\d,]+\.\d{2}\d*0|\d{4,}\.\d+)(?![\w.,:/-]*\d)")
#: Russian money with zeros past the kopecks ("500,0000 ₽").
LONG_MONEY = re.compile(r"\d,\d{2}\d*0(?!\d)")
#: A currency code glued to its number ("RUB0.00") or the number glued to the code.
GLUED_CURRENCY = re.compile(r"\b(?:RUB|USD|EUR|KZT|BYN|UAH|GBP|CNY)-?\d|\d(?:RUB|USD|EUR)\b")
#: What an address, a domain or a file name looks like: not words of the interface.
_ADDRESSES = re.compile(
    r"[\w.+-]+@[\w.-]+|\b(?:https?://|www\.)\S+|"
    r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|ru|org|net|test|local|example|pdf|csv|xlsx|xml|json|"
    r"png|jpe?g|gif|txt|zip|html?|eml)\b|"
    # a ticket's reference (with or without "#"), a setting's environment variable
    r"(?-i:#[A-Z0-9]{4,}\b|\b[A-Z0-9]{8}\b|\bPORTAL_[A-Z_]+\b)",
    re.IGNORECASE,
)
RAW_KEY = re.compile(
    r"(?<![\w@./-])(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*(?:\.[a-z_]+)*)"
    r"(?![\w@/-])"
    r"|\{\s*['\"]\w+['\"]\s*:"  # a dict's repr
    r"|\((?:actual|before|after)\)"
    r"|\bstaff #\d+"
)
#: Python's words for "nothing" and booleans, printed instead of a label.
PYTHON_WORDS = re.compile(r"\b(?:True|False|None)\b")
_LATIN_WORD = re.compile(r"(?<![\w-])[A-Za-z][A-Za-z'’-]*[A-Za-z](?![\w-])")
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%[sdf]|\{\w*\}")


@dataclass(frozen=True)
class Catalogue:
    """What the Russian catalogue says in either language: the texts a Russian page must not
    show (the English msgids translated to something else) and the texts an English page must
    not show (those translations)."""

    english: frozenset[str]
    russian: frozenset[str]
    english_patterns: re.Pattern[str] | None
    russian_patterns: re.Pattern[str] | None

    @classmethod
    def load(cls, *po_files: Path) -> Catalogue:
        """The Russian ``messages.po`` of the core (and of plugins): every entry whose
        translation differs from its msgid."""
        english: set[str] = set()
        russian: set[str] = set()
        english_re: list[str] = []
        russian_re: list[str] = []
        for po_file in po_files or (Path(portal.__file__).parent / RU_CATALOGUE,):
            with po_file.open("rb") as stream:
                catalog = read_po(stream)
            for message in catalog:
                if not message.id or message.fuzzy:
                    continue
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for msgid, msgstr in zip(ids, strings, strict=False):
                    msgid, msgstr = " ".join(msgid.split()), " ".join(msgstr.split())
                    if not msgstr or msgid == msgstr:
                        continue
                    for text, plain, patterns in (
                        (msgid, english, english_re),
                        (msgstr, russian, russian_re),
                    ):
                        if _PLACEHOLDER.search(text):
                            literal = _PLACEHOLDER.sub(" ", text)
                            if len(literal.strip()) >= 4:
                                patterns.append(_as_pattern(text))
                        elif _worth_checking(text):
                            plain.add(text)
        return cls(
            frozenset(english),
            frozenset(russian),
            re.compile("|".join(english_re)) if english_re else None,
            re.compile("|".join(russian_re)) if russian_re else None,
        )


RU_CATALOGUE = Path("translations/ru/LC_MESSAGES/messages.po")


def _as_pattern(text: str) -> str:
    parts = _PLACEHOLDER.split(text)
    return "(?:" + ".+?".join(re.escape(part) for part in parts) + ")"


def _worth_checking(text: str) -> bool:
    """Single letters, numbers and symbols read the same in both languages."""
    return sum(ch.isalpha() for ch in text) >= 2


@dataclass
class LanguageCheck:
    """The leaks in a page's visible text for one language (``"ru"`` or ``"en"``).

    ``allowed``: Latin words a Russian page may show: brand names, file formats, currency
    codes, the demo data's own Latin. Keep it short and specific; it is not a place for an
    untranslated word."""

    language: str
    catalogue: Catalogue
    allowed: frozenset[str] = frozenset()
    #: Whole phrases that are names, not words of the interface (the portal's name setting,
    #: a bank format's name); taken out of the text before it is checked.
    names: tuple[str, ...] = ()

    def problems(self, page: PageParser) -> list[str]:
        found: list[str] = []
        own = not page.lang or page.lang.split("-")[0] == self.language
        for node in page.texts:
            found += self.node_problems(node, language=own)
        for node in page.foreign:
            found += self.node_problems(node, language=False)
        return found

    def node_problems(self, node: str, *, language: bool = True) -> list[str]:
        """What one text node leaks; ``language=False``: a text in another language on
        purpose, checked for raw keys and numbers only."""
        found: list[str] = []
        bare = _ADDRESSES.sub(" ", node)
        for name in self.names:
            bare = bare.replace(name, " ")
        found += [f"raw key {key!r}" for key in RAW_KEY.findall(bare)]
        found += [f"glued currency {m!r} in {node!r}" for m in GLUED_CURRENCY.findall(node)]
        if not language:
            return found + [f"raw number {m!r} in {node!r}" for m in RAW_NUMBER.findall(bare)]
        if self.language == "ru":
            found += [f"raw number {m!r} in {node!r}" for m in RAW_NUMBER.findall(bare)]
            found += [f"raw money {m!r} in {node!r}" for m in LONG_MONEY.findall(bare)]
            found += [f"python word {m!r} in {node!r}" for m in PYTHON_WORDS.findall(bare)]
            if bare.strip() in self.catalogue.english or (
                self.catalogue.english_patterns is not None
                and self.catalogue.english_patterns.fullmatch(node)
            ):
                found.append(f"untranslated {node!r}")
            else:
                latin = [
                    word
                    for word in _LATIN_WORD.findall(bare)
                    if word not in self.allowed and word.upper() not in self.allowed
                ]
                if latin:
                    found.append(f"English {latin} in {node!r}")
        else:
            found += [f"raw number {m!r} in {node!r}" for m in RAW_NUMBER_EN.findall(bare)]
            if PYTHON_WORDS.fullmatch(node) and node not in self.catalogue.english:
                found.append(f"python word {node!r}")
            if node in self.catalogue.russian or (
                self.catalogue.russian_patterns is not None
                and self.catalogue.russian_patterns.fullmatch(node)
            ):
                found.append(f"Russian {node!r}")
        return found
