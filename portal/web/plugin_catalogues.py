"""Each plugin's strings in its own gettext catalogue, loaded by the core (docs/plugins.md,
"Translations").

By convention a plugin package ``portal_x`` keeps ``portal_x/translations/<lang>/LC_MESSAGES/
portal_x.po`` (the domain is the package's name). The app's gettext domain is the core's
catalogue with every plugin's merged over it, per locale, so a plugin's Python code and its
templates translate with the ordinary ``gettext``/``lazy_gettext``/``_()``, and a word the core
already translates ("Save") needs no entry in the plugin's catalogue. The ``.mo`` beside the
``.po`` is used when it is at least as new; otherwise the ``.po`` is compiled in memory (a plugin
installed from a checkout has no compiled catalogue, and writing into a package is not ours).

Each app has its own domain (tests build apps with and without plugins in one process): the
merged catalogues are cached per domain and locale. The catalogue a request uses is also kept in
``g`` for as long as its locale object is the same: a page translates a hundred strings, and each
lookup through Flask-Babel's cache built the key from the locale's name anew
(docs/performance.md, "Per-row work").
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Iterable
from pathlib import Path

from babel import Locale, support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g
from flask_babel import Domain, get_locale


def catalogue_dir(package: str) -> Path | None:
    """``<package>/translations`` of an importable plugin package, if it has one."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        directory = Path(location) / "translations"
        if directory.is_dir():
            return directory
    return None


def load_catalogue(directory: Path, locale: str, domain: str) -> support.Translations | None:
    """The plugin's catalogue for ``locale``: its ``.mo`` if current, else its ``.po``."""
    folder = directory / locale / "LC_MESSAGES"
    po, mo = folder / f"{domain}.po", folder / f"{domain}.mo"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return support.Translations(fh, domain=domain)
    if not po.is_file():
        return None
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return support.Translations(buffer, domain=domain)


#: ``g`` attribute: (locale, domain, translations) of the current request.
_HELD = "_portal_translations"


class PortalDomain(Domain):
    """The core's ``messages`` domain with the plugins' catalogues merged over it."""

    def __init__(self, plugin_catalogues: Iterable[tuple[Path, str]]) -> None:
        super().__init__(domain="messages")
        self.plugin_catalogues = list(plugin_catalogues)

    def get_translations(self) -> support.NullTranslations:
        locale = get_locale()
        if locale is None:  # no app context
            return super().get_translations()
        held = g.get(_HELD)
        if held is not None and held[0] is locale and held[1] is self:
            return held[2]
        translations = self._merged(locale)
        setattr(g, _HELD, (locale, self, translations))
        return translations

    def _merged(self, locale: Locale) -> support.NullTranslations:
        core = super().get_translations()
        if not self.plugin_catalogues:
            return core
        key = ("with-plugins", str(locale))
        merged = self.cache.get(key)
        if merged is None:
            merged = support.Translations()
            merged.merge(core)
            if hasattr(core, "plural"):
                merged.plural = core.plural
            for directory, domain in self.plugin_catalogues:
                catalogue = load_catalogue(directory, str(locale), domain)
                if catalogue is not None:
                    merged.merge(catalogue)
            self.cache[key] = merged
        return merged


def install_plugin_catalogues(app: Flask, packages: Iterable[str]) -> list[str]:
    """Give ``app`` a domain with the catalogues of ``packages`` (those that have one); returns
    the domains found. Called once the plugins are loaded, before any page is served."""
    found: list[tuple[Path, str]] = []
    for package in dict.fromkeys(packages):
        directory = catalogue_dir(package)
        if directory is not None:
            found.append((directory, package))
    app.extensions["babel"].instance.domain_instance = PortalDomain(found)
    return [domain for _directory, domain in found]
