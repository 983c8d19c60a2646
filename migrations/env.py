"""Alembic environment (Flask-Migrate). Batch mode keeps ALTERs working on SQLite."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def _engine():
    return target_db.engine


config.set_main_option(
    "sqlalchemy.url", _engine().url.render_as_string(hide_password=False).replace("%", "%%")
)


def _plugin_names() -> set[str]:
    plugins = current_app.extensions.get("portal.plugins")
    return set(plugins.infos) if plugins is not None else set()


def include_object(obj, name, type_, reflected, compare_to):
    """Autogenerate: the core's tables by default, or with ``-x plugin=NAME`` only the tables of
    that plugin (named ``NAME_...``), so that neither writes the other's tables into its branch
    (docs/plugins.md, "Models and migrations")."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    if table is None:
        return True
    wanted = context.get_x_argument(as_dictionary=True).get("plugin")
    owner = next((p for p in sorted(_plugin_names()) if table.name.startswith(f"{p}_")), None)
    return owner == wanted


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    conf_args.setdefault("include_object", include_object)
    with _engine().connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            context.configure(
                connection=connection, target_metadata=target_db.metadata, **conf_args
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _check_sqlite_foreign_keys(connection)
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection, *, on: bool) -> None:
    """SQLite rebuilds a table (batch ``recreate``) by copying it, dropping the original and
    renaming the copy. With foreign keys on, that DROP deletes the rows that reference the
    table (``ON DELETE CASCADE``), so they are off while migrations run, as Alembic's batch
    documentation says. The pragma is ignored inside a transaction: it is set between them."""
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


def _check_sqlite_foreign_keys(connection) -> None:
    """Refuse to commit migrations that left a row pointing at nothing."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"migrations left broken foreign keys: {broken[:10]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
