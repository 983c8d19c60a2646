"""Application factory: extensions -> blueprints -> plugins -> themes."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Mapping
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import Babel
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.core.clock import Clock, SystemClock
from portal.core.extensions import bootstrap, csrf, db, limiter, migrate
from portal.core.private_files import prepare_sqlite_file
from portal.core.settings import data_dir, flask_config, instance_dir, load_settings
from portal.platform.hooks.manager import PluginLoader
from portal.platform.plugin_migrations import configure_alembic
from portal.web.query_args import RowIdConverter

PACKAGE_DIR = Path(__file__).resolve().parents[1]

#: The domain areas: each is a package ``portal.<area>`` with a ``register(app)``
#: (docs/architecture.md).
AREAS = (
    "accounts",
    "platform",
    "catalog",
    "orders",
    "invoicing",
    "support",
    "messaging",
    "imports",
    "reports",
)

#: The core's own hook implementations, registered as plugins before any other, under their
#: module names, as datasette registers its ``default_*`` modules (docs/hooks.md, "Built-in
#: plugins"). Defaults are ``trylast`` so a plugin can replace them; reactions to events are
#: ``tryfirst``, and among those pluggy calls the last registered first: the orders area's
#: ``invoice_paid`` (paid upgrades, provisioning) runs before the invoicing area's (unsuspend).
BUILTIN_PLUGINS = (
    "portal.invoicing.gateways.bank_transfer",
    "portal.invoicing.statement_formats",
    "portal.platform.report_registry",
    "portal.reports.builtin_hooks",
    "portal.support.builtin_hooks",
    "portal.invoicing.builtin_hooks",
    "portal.orders.builtin_hooks",
    "portal.catalog.builtin_hooks",
)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: enforce foreign keys, use WAL so readers do not block the writer."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
        # SQLite's lower() folds ASCII only; searching "ромашка" must find "Ромашка" as on
        # PostgreSQL, and ILIKE compiles to lower() here.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def create_app(
    overrides: Mapping[str, Any] | None = None,
    *,
    clock: Clock | None = None,
    extra_plugins: Iterable[object] = (),
    instance_path: str | os.PathLike[str] | None = None,
) -> Flask:
    """Build the portal.

    ``overrides`` take precedence over the settings file and environment (tests use them);
    ``clock`` replaces the system clock; ``extra_plugins`` are registered like enabled plugins
    without being installed (how tests load a plugin).
    """
    app = Flask(__name__, instance_path=str(instance_dir(instance_path)))
    app.url_map.converters["int"] = RowIdConverter
    settings = load_settings(Path(app.instance_path), overrides=overrides)
    prepare_sqlite_file(settings["database_url"])
    app.config.update(flask_config(settings))
    app.extensions["portal.core.clock"] = clock or SystemClock()
    if settings["proxy_hops"]:
        # Only the proxies we were told about may say who the client is (docs/security.md).
        hops = settings["proxy_hops"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    _init_extensions(app)
    _init_areas(app)
    _init_plugins(app, settings["plugins"], extra_plugins)
    _init_shell(app)
    if settings["embedded_scheduler"] and not app.config.get("TESTING"):
        from portal.platform.jobs.scheduler import start_embedded_scheduler

        start_embedded_scheduler(app)  # in one web process per host: the lock's holder
    return app


def _init_extensions(app: Flask) -> None:
    from portal.web import html_attributes
    from portal.web.i18n import PortalRequest, select_locale
    from portal.web.identity import init_identity

    html_attributes.install()  # WTForms' widgets write their attributes faster
    app.request_class = PortalRequest
    db.init_app(app)
    migrate.init_app(app, db, directory=str(data_dir("migrations")))
    if configure_alembic not in migrate.configure_callbacks:  # core and plugin branches
        migrate.configure(configure_alembic)
    csrf.init_app(app)
    # one Babel per app: its gettext domain carries the app's plugins' catalogues
    # (portal.web.plugin_catalogues); the module-level ``babel`` serves the first app only
    Babel().init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PACKAGE_DIR / "translations"),
    )
    bootstrap.init_app(app)
    limiter.init_app(app)
    init_identity(app)


def _init_areas(app: Flask) -> None:
    """Each area mounts its own blueprints; their templates are found beside them."""
    loaders = [FileSystemLoader(PACKAGE_DIR / "web" / "templates")]
    for area in AREAS:
        templates = PACKAGE_DIR / area / "templates"
        if templates.is_dir():
            loaders.append(FileSystemLoader(templates))
        import_module(f"portal.{area}").register(app)
    app.jinja_loader = ChoiceLoader(loaders)


def _init_plugins(app: Flask, enabled: list[str], extra: Iterable[object]) -> None:
    from portal.core.cli import register_commands
    from portal.platform import plugins as plugin_state
    from portal.web.plugin_catalogues import install_plugin_catalogues

    builtins = tuple(import_module(name) for name in BUILTIN_PLUGINS)
    loader = PluginLoader(tuple(enabled), builtins=builtins, extra=tuple(extra))
    plugins = loader.build(plugin_state.stored_choices(app))
    app.extensions["portal.plugins"] = plugins
    plugin_state.remember_mounted(app, plugins)
    app.before_request(plugin_state.refresh)  # staff enabled or disabled a plugin meanwhile
    from portal.core.extensions import csrf

    for blueprint in plugins.collect("register_blueprints"):
        area = getattr(blueprint, "portal_area", None)
        if area not in ("admin", "client", "api"):
            raise ValueError(
                f"plugin blueprint {blueprint.name!r} must set portal_area to 'admin', "
                "'client' or 'api'"
            )
        if area == "api":  # server to server (a PBX posting CDRs): no session, no CSRF
            csrf.exempt(blueprint)  # the plugin authenticates each request itself
        app.register_blueprint(blueprint)
    register_commands(app, plugins.collect("register_cli_commands"))
    packages = [info.module.split(".")[0] for info in plugins.infos.values() if info.module]
    packages += [getattr(obj, "__name__", "").split(".")[0] for obj in extra]
    install_plugin_catalogues(app, [name for name in packages if name.startswith("portal_")])


def _init_shell(app: Flask) -> None:
    from flask_babel import get_locale

    from portal.platform.themes import init_theming
    from portal.web.errors import init_errors
    from portal.web.formatting import init_formatting
    from portal.web.i18n import available_locales
    from portal.web.input_bounds import init_input_bounds
    from portal.web.labels import init_labels
    from portal.web.row_urls import init_row_urls
    from portal.web.security_headers import init_security_headers

    init_theming(app)
    init_formatting(app)
    init_labels(app)
    init_row_urls(app)
    init_errors(app)
    init_security_headers(app)
    init_input_bounds(app)

    app.jinja_env.globals.update(
        get_locale=get_locale,
        available_locales=available_locales,
        company_name=app.config["PORTAL"]["company_name"],
    )
