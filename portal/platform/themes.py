"""Client-area themes: ``themes/<name>/templates`` overrides any template by file name.

Lookup order: the active theme, then ``default``, then the core templates in the package. The
active theme is a setting staff change at run time, so it is read per request (``g.theme``) and a
cached template is stale once the theme changes; several web processes therefore agree without
an in-process cache.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask, abort, current_app, g, has_request_context, send_from_directory
from jinja2 import BaseLoader, Environment, FileSystemLoader, TemplateNotFound
from werkzeug.wrappers import Response

from portal.core.settings import data_dir
from portal.platform import runtime_settings
from portal.web.static_request import is_static_request

DEFAULT_THEME = "default"


def theme_dirs(app: Flask) -> dict[str, Path]:
    """Every theme found under the configured theme paths and then the built-in ``themes/``
    (inside an installed wheel, where an operator could not name it), by name: the first path
    wins, so an extra folder may also replace the default theme."""
    found: dict[str, Path] = {}
    for root in [*app.config["PORTAL"]["theme_paths"], data_dir("themes")]:
        base = Path(root)
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if (child / "templates").is_dir():
                found.setdefault(child.name, child)
    return found


def active_theme() -> str:
    if has_request_context() and "theme" in g:
        return g.theme
    return runtime_settings.get("theme", current_app.config["PORTAL"]["theme"])


class ThemeLoader(BaseLoader):
    """Active theme -> default theme -> core package templates."""

    def __init__(self, app: Flask, core: BaseLoader) -> None:
        self.app = app
        self.core = core

    def files_may_change(self) -> bool:
        """Whether a cached template is checked against its file (a stat per template and
        request): in debug mode or with ``TEMPLATES_AUTO_RELOAD``, as Flask does. The active
        theme is checked either way (the reason ``auto_reload`` is on, :func:`init_theming`)."""
        configured = self.app.config.get("TEMPLATES_AUTO_RELOAD")
        return bool(self.app.debug if configured is None else configured)

    def _chain(self, theme: str) -> list[BaseLoader]:
        dirs = theme_dirs(self.app)
        names = [theme, DEFAULT_THEME] if theme != DEFAULT_THEME else [DEFAULT_THEME]
        loaders: list[BaseLoader] = [
            FileSystemLoader(dirs[name] / "templates") for name in names if name in dirs
        ]
        return [*loaders, self.core]

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        theme = active_theme()
        for loader in self._chain(theme):
            try:
                source, filename, uptodate = loader.get_source(environment, template)
            except TemplateNotFound:
                continue

            if not self.files_may_change():
                uptodate = None  # production: the files are read once per process

            def still_valid(uptodate: Callable[[], bool] | None = uptodate) -> bool:
                return active_theme() == theme and (uptodate is None or uptodate())

            return source, filename, still_valid
        raise TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        names: set[str] = set()
        for loader in self._chain(active_theme()):
            names.update(loader.list_templates())
        return sorted(names)


def theme_static(filename: str) -> Response:
    """Serve ``themes/<active>/static/<filename>``, falling back to the default theme."""
    dirs = theme_dirs(current_app)
    for name in (active_theme(), DEFAULT_THEME):
        static = dirs.get(name, Path("/nonexistent")) / "static"
        if (static / filename).is_file():
            return send_from_directory(static, filename, max_age=3600)
    abort(404)


def init_theming(app: Flask) -> None:
    core = app.jinja_loader
    assert core is not None
    app.jinja_loader = ThemeLoader(app, core)
    app.jinja_env.auto_reload = True  # so the uptodate check above runs
    app.add_url_rule("/theme/static/<path:filename>", "theme_static", theme_static)

    @app.before_request
    def _remember_theme() -> None:
        if is_static_request():  # theme_static reads the cached theme itself
            return
        g.theme = runtime_settings.get("theme", app.config["PORTAL"]["theme"])
