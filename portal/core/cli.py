"""The ``portal`` command (also ``flask --app wsgi ...``): db, demo, plugins, staff, jobs, ...

Start-up is kept short: ``portal --help`` and ``portal COMMAND --help`` build no app, a core
command builds it only when it runs (``with_appcontext``), and ``portal plugins list`` builds
just the plugin manager (:func:`portal.platform.plugins.from_settings`). Commands that plugins
add live on the app, so naming one builds the app; ``portal plugins list`` shows them. Every
module these commands need is imported inside them, for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import metadata
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from portal.core.app_state import clock, plugins

if TYPE_CHECKING:
    from portal.platform.hooks.manager import PortalPlugins


def _create_app() -> Flask:
    from portal.core.app import create_app

    return create_app()


class PortalGroup(FlaskGroup):
    """A FlaskGroup that lists its commands without loading the app or importing a command's
    package: the core's commands are its own, Flask-Migrate's ``db`` and the ``flask.commands``
    entry points (Flask-Limiter's ``limiter``) are loaded when named, and the app (with the
    plugins' commands) is built only for a name that is none of these."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: name -> (how to load the command, the line ``--help`` shows for it)
        self.lazy: dict[str, tuple[Callable[[], click.Command], str]] = {}

    def _load_plugin_commands(self) -> None:
        """Flask loads every ``flask.commands`` entry point here; only their names are read."""
        if self._loaded_plugin_commands:
            return
        for ep in metadata.entry_points(group="flask.commands"):
            origin = ep.dist.name if ep.dist is not None else ep.module
            self.lazy.setdefault(ep.name, (ep.load, f"Commands of {origin}."))
        self._loaded_plugin_commands = True

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._load_plugin_commands()
        if name not in self.commands and name in self.lazy:
            self.add_command(self.lazy[name][0](), name)
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return sorted({*self.commands, *self.lazy})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = [
            name
            for name in self.list_commands(ctx)
            if name not in self.commands or not self.commands[name].hidden
        ]
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (
                name,
                self.commands[name].get_short_help_str(limit)
                if name in self.commands
                else self.lazy[name][1],
            )
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


main = PortalGroup(
    create_app=_create_app,
    add_version_option=False,
    help="Billing portal administration. Run `portal COMMAND --help` for details.",
    epilog="Enabled plugins may add commands; `portal plugins list` names them.",
)


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Fill an empty database with demo staff, a client and products (safe to repeat)."""
    from portal.core.clock import today
    from portal.platform.demo import DEMO_LOGINS, load_demo_data, load_plugin_demo_data

    created = load_demo_data(clock())
    extra = load_plugin_demo_data(today())
    click.echo("Demo data " + ("loaded." if created else "already present."))
    for area, email, password in DEMO_LOGINS:
        click.echo(f"  {area:<12} {email:<24} password: {password}")
    for line in extra:
        click.echo(f"  {line}")


@click.group("plugins", cls=AppGroup)
def plugins_group() -> None:
    """Inspect plugins."""


@plugins_group.command("list", with_appcontext=False)
def plugins_list() -> None:
    """Show discovered plugins: enabled, disabled or failed (with the error), and the commands
    each enabled one adds."""
    built = _plugins_to_list()
    commands = _commands_by_plugin(built)
    infos = sorted(built.infos.values(), key=lambda info: info.name)
    if not infos:
        click.echo("No plugins discovered (entry point group portal.plugins).")
    for info in infos:
        line = f"{info.name:<20} {info.state:<9} {info.version:<10} {info.module}"
        click.echo(line.rstrip())
        if info.error:
            click.echo(f"    error: {info.error}")
        if commands.get(info.name):
            click.echo(f"    commands: {', '.join(sorted(commands[info.name]))}")


def _plugins_to_list() -> PortalPlugins:
    """The running app's plugins; from the shell, where no app is built yet, the plugin manager
    alone, from the same settings and stored choices the app would use."""
    if current_app:
        return plugins()
    from portal.core.settings import instance_dir, load_settings
    from portal.platform.plugins import from_settings

    return from_settings(load_settings(instance_dir()))


def _commands_by_plugin(built: PortalPlugins) -> dict[str, list[str]]:
    """The names of the commands each plugin's ``register_cli_commands`` returns."""
    hook = built.pm.hook.register_cli_commands
    return {
        impl.plugin_name: [command.name for command in impl.function() or ()]
        for impl in hook.get_hookimpls()
        if impl.plugin_name in built.infos
    }


@plugins_group.command("enable")
@click.argument("name")
def plugins_enable(name: str) -> None:
    """Enable NAME (staff's choice, wins over the plugins setting); run `portal db upgrade` next
    if it owns tables."""
    _set_plugin(name, True)


@plugins_group.command("disable")
@click.argument("name")
def plugins_disable(name: str) -> None:
    """Disable NAME even if the plugins setting lists it."""
    _set_plugin(name, False)


def _set_plugin(name: str, enabled: bool) -> None:
    from portal.platform.plugins import PluginError, set_enabled

    try:
        set_enabled(name, enabled)
    except PluginError as exc:
        raise click.ClickException(str(exc)) from exc
    info = plugins().infos[name]
    click.echo(f"{name} {info.state}" + (f": {info.error}" if info.error else ""))


@plugins_group.command("reencrypt")
def plugins_reencrypt() -> None:
    """Encrypt every stored plugin secret and TOTP secret with the current secret key (after a
    rotation)."""
    from portal.accounts.two_factor import reencrypt_secrets as reencrypt_totp
    from portal.platform.plugin_settings import reencrypt_secrets

    done, unreadable = reencrypt_secrets()
    click.echo(f"re-encrypted {done}, unreadable {unreadable}")
    totp_done, totp_unreadable = reencrypt_totp()
    click.echo(f"two-factor secrets: re-encrypted {totp_done}, unreadable {totp_unreadable}")
    if unreadable:
        raise click.ClickException("some secrets are unreadable: enter them again in the admin")
    if totp_unreadable:
        raise click.ClickException(
            "some two-factor secrets are unreadable: those accounts sign in with a recovery code "
            "(or have their two-factor reset) and set it up again"
        )


def _database_group() -> click.Group:
    """Flask-Migrate's `db` commands, with `upgrade` bringing the core and every enabled plugin's
    branch up to date (portal.platform.plugin_migrations) unless a revision is given."""
    from flask import g
    from flask.cli import with_appcontext
    from flask_migrate import cli as migrate_cli
    from flask_migrate import upgrade

    @click.command("upgrade")
    @click.option("-d", "--directory", default=None, help="Migration script directory.")
    @click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
    @click.option("--tag", default=None, help="Arbitrary tag for custom env.py scripts.")
    @click.option("-x", "--x-arg", multiple=True, help="Arguments for custom env.py scripts.")
    @click.argument("revision", required=False)
    @with_appcontext
    def db_upgrade(
        directory: str | None, sql: bool, tag: str | None, x_arg: Any, revision: str | None
    ) -> None:
        """Upgrade the core and every enabled plugin (or to REVISION, e.g. diskspace@head)."""
        from portal.platform.plugin_migrations import upgrade_all

        directory, x_arg = directory or g.directory, x_arg or g.x_arg
        if revision is None and directory is None and not x_arg:
            upgrade_all(sql=sql, tag=tag)
        else:
            upgrade(directory, revision or "heads", sql, tag, x_arg)

    group = migrate_cli.db
    return click.Group(
        "db",
        commands={**group.commands, "upgrade": db_upgrade},
        callback=group.callback,
        params=group.params,
        help=group.help,
    )


@click.group("staff", cls=AppGroup)
def staff_group() -> None:
    """Manage staff accounts."""


@staff_group.command("create")
@click.option("--email", required=True)
@click.option("--first-name", required=True)
@click.option("--last-name", default="")
@click.option(
    "--role",
    type=click.Choice(["administrator", "accountant", "support", "sales_manager"]),
    default="administrator",
    show_default=True,
    help="Built-in role to give.",
)
@click.password_option()
def staff_create(email: str, first_name: str, last_name: str, role: str, password: str) -> None:
    """Create a staff member who can sign in at /admin/login."""
    from portal.accounts.sign_in import AccountError, create_staff
    from portal.accounts.staff import give_builtin_role

    try:
        staff = create_staff(
            email=email,
            password=password,
            first_name=first_name,
            last_name=last_name,
            clock=clock(),
        )
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    give_builtin_role(staff, role)
    click.echo(f"Staff member {staff.id} created: {staff.email} ({role})")


@click.group("mail", cls=AppGroup)
def mail_group() -> None:
    """E-mail: take in support mail, deliver the outbox, send failed mail again."""


#: sysexits.h EX_TEMPFAIL: the MTA keeps the message and pipes it again later.
EX_TEMPFAIL = 75


@mail_group.command("pipe")
@click.argument("message", type=click.File("rb"), default="-")
def mail_pipe(message: Any) -> None:
    """Take in one RFC 822 message (for an MTA alias: "|portal mail pipe")."""
    from portal.support.mail_intake import receive

    raw = message.read()
    try:
        result = receive(raw)
    except Exception as exc:
        click.echo(f"temporary failure: {exc}", err=True)
        raise SystemExit(EX_TEMPFAIL) from exc
    click.echo(str(result))


@mail_group.command("send")
@click.option("--limit", default=100, show_default=True, help="Most messages to send.")
def mail_send(limit: int) -> None:
    """Deliver the e-mail outbox (messages that are due, with retries and backoff)."""
    from portal.messaging.outbox import deliver_outbox

    report = deliver_outbox(clock().now(), limit=limit)
    click.echo(
        f"sent {report.sent}, to retry {report.retried}, failed {report.failed}, "
        f"taken over by another sender {report.skipped}"
    )
    for error in report.errors:
        click.echo(f"  {error}", err=True)


@mail_group.command("retry")
@click.option(
    "--failed", is_flag=True, help="Send failed mail again (required: only failed mail is)."
)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Queued on or after this day.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Queued on or before this day.")
@click.option("--template", help="Only mail of this template ('-': mail without one).")
@click.option("--to", "recipient", default="", help="Only mail to an address containing this.")
def mail_retry(failed: bool, since: Any, until: Any, template: str | None, recipient: str) -> None:
    """Give failed mail a fresh round of attempts, as "Send again" on the E-mail queue page."""
    from portal.messaging.outbox import OutboxFilter, retry_failed

    if not failed:
        raise click.UsageError("say --failed: only mail that failed for good is sent again")
    matching = OutboxFilter(
        since=since.date() if since else None,
        until=until.date() if until else None,
        template=template,
        recipient=recipient,
    )
    click.echo(f"{retry_failed(matching=matching)} failed messages will be sent again")


@mail_group.command("poll")
@click.option("--limit", default=100, show_default=True, help="Most messages to fetch.")
def mail_poll(limit: int) -> None:
    """Fetch unseen support mail from the IMAP mailbox (imap_* settings) and take it in."""
    from portal.messaging.imap import ImapError
    from portal.support.mail_intake import poll_mailbox

    try:
        report = poll_mailbox(limit=limit)
    except (ImapError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"fetched {report.fetched}, handled {report.handled}, failed {report.failed}")
    for line in report.results:
        click.echo(f"  {line}")


@click.group("support", cls=AppGroup)
def support_group() -> None:
    """Support desk jobs."""


@support_group.command("escalate")
def support_escalate() -> None:
    """Apply escalation rules and auto-close silent answered tickets (each exactly once)."""
    from portal.support.escalation import run_all

    report = run_all(clock().now())
    click.echo(f"escalated {report.escalated}, closed {report.closed}")
    for line in report.details:
        click.echo(f"  {line}")


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the job scheduler in the foreground (production: its own process or several)."""
    from portal.platform.jobs.scheduler import build_scheduler

    scheduler = build_scheduler(current_app._get_current_object(), blocking=True)
    for job in scheduler.get_jobs():
        click.echo(f"{job.id:<22} {job.trigger}")
    scheduler.start()


@click.group("jobs", cls=AppGroup)
def jobs_group() -> None:
    """Scheduled jobs: list them or run one now."""


@jobs_group.command("list")
def jobs_list() -> None:
    """Each job with its schedule and its last run."""
    from portal.platform.jobs.registry import jobs
    from portal.platform.jobs.runs import last_runs

    latest = last_runs()
    for job in jobs().values():
        run = latest.get(job.id)
        last = f"{run.status.value} {run.started_at:%Y-%m-%d %H:%M}" if run else "never run"
        click.echo(f"{job.id:<22} {job.schedule or 'off':<14} {last}")


@jobs_group.command("run")
@click.argument("job_id")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Default: today.")
def jobs_run(job_id: str, as_of: Any) -> None:
    """Run JOB_ID now (under its lease, recorded in the job history)."""
    from portal.core.clock import today
    from portal.platform.jobs.registry import jobs
    from portal.platform.jobs.runs import run_job

    job = jobs().get(job_id)
    if job is None:
        raise click.ClickException(f"Unknown job {job_id}; see `portal jobs list`.")
    day = as_of.date() if as_of else today()
    run = run_job(job.id, job.run, day)
    if run is None:
        raise click.ClickException(f"{job_id} is running elsewhere right now; try again later.")
    click.echo(f"{job_id} {run.status.value}: {run.counts}")
    if run.error:
        raise click.ClickException(run.error.strip().splitlines()[0])


@click.group("billing", cls=AppGroup)
def billing_group() -> None:
    """The billing run, its forecast, bank statements and the money check."""


def _day(as_of: Any) -> Any:
    from portal.core.clock import today

    if as_of:
        return as_of.date()
    return today()


@billing_group.command("run")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Default: today.")
@click.option("--batch-size", default=500, show_default=True, help="Clients per transaction.")
@click.option("--yes", is_flag=True, help="Do not ask before a run for a date after today.")
def billing_run(as_of: Any, batch_size: int, yes: bool) -> None:
    """Invoice every service due by the as-of date (safe to repeat; run several at once on
    PostgreSQL to share a large run). A date after today issues real, future-dated invoices
    and mails them, so it is asked about first, as on the Billing runs page."""
    from portal.core.clock import today
    from portal.invoicing.billing_run import bill_due, start_run

    day = _day(as_of)
    if day > today() and not yes:
        click.confirm(
            f"{day} is after today ({today()}): this is not a forecast, real invoices dated "
            f"{day} will be issued and e-mailed to clients. Issue them?",
            abort=True,
        )
    run = start_run(day, "cli")
    with click.progressbar(length=run.clients_total, label=f"Billing run {day}") as bar:
        report = bill_due(
            day, run=run, batch_size=batch_size, progress=lambda batch: bar.update(batch.clients)
        )
    totals = ", ".join(f"{amount} {currency}" for currency, amount in report.totals.items())
    click.echo(
        f"clients {report.clients}, services {report.services}, invoices {report.invoices}, "
        f"lines {report.lines}" + (f"; total {totals}" if totals else "")
    )


@billing_group.command("forecast")
@click.option("--months", default=3, show_default=True, type=click.IntRange(1, 36))
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Default: today.")
@click.option("--details", is_flag=True, help="Every line, not only the monthly totals.")
def billing_forecast(months: int, as_of: Any, details: bool) -> None:
    """What the billing runs of the next MONTHS months would invoice (writes nothing)."""
    from portal.invoicing.billing_forecast import forecast

    result = forecast(_day(as_of), months)
    click.echo(
        f"{'month':<8} {'currency':<8} {'invoices':>8} {'net':>14} {'tax':>12} {'total':>14}"
    )
    for month in result.months():
        click.echo(
            f"{month.month:<8} {month.currency:<8} {month.invoices:>8} {month.net:>14} "
            f"{month.tax:>12} {month.total:>14}"
        )
    if details:
        for line in result.lines:
            click.echo(
                f"{line.invoice_date} #{line.client_id} {line.client_name}: "
                f"{line.description} {line.total} {line.currency}"
            )


@billing_group.command("import-statement")
@click.argument("statement", type=click.File("rb"))
def billing_import_statement(statement: Any) -> None:
    """Record the incoming payments of a bank statement (1CClientBankExchange or a format a
    plugin reads); safe to repeat."""
    from portal.invoicing.bank_statements import StatementError, import_statement

    try:
        report = import_statement(statement.read(), getattr(statement, "name", ""))
    except StatementError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"recorded {len(report.recorded)}, already recorded {len(report.already)}, "
        f"to link by hand {len(report.unmatched)} (Billing → Unmatched payments), "
        f"already waiting there {len(report.queued_before)}"
    )
    for entry, reason in report.unmatched:
        click.echo(f"  {entry.reference}: {entry.amount} {entry.payer} — {reason}")


@billing_group.command("check")
def billing_check() -> None:
    """Check every invoice's paid amount and status against its payments and applied credit,
    and every credit balance against its ledger (reads only; exit status 1 on a disagreement,
    for monitoring). The billing.money_check job does the same nightly and mails staff."""
    from portal.invoicing.money_check import check_money

    report = check_money()
    click.echo(
        f"invoices {report.invoices}, credit balances {report.balances}: "
        f"{len(report.invoice_drift)} invoices and {len(report.credit_drift)} balances disagree"
    )
    for line in report.lines():
        click.echo(f"  {line}")
    if not report.clean:
        raise SystemExit(1)


#: The core's commands; ``db`` is built when named (Flask-Migrate's group imports Alembic).
COMMANDS: tuple[click.Command, ...] = (
    demo_command,
    plugins_group,
    staff_group,
    mail_group,
    support_group,
    scheduler_command,
    jobs_group,
    billing_group,
)
for _command in COMMANDS:
    main.add_command(_command)
main.lazy["db"] = (_database_group, "Database migrations: the core's and enabled plugins'.")


def register_commands(app: Flask, extra: Iterable[Any]) -> None:
    """Mount the core's commands and the plugins' on the app (``flask --app wsgi``, tests)."""
    for command in (_database_group(), *COMMANDS, *extra):
        app.cli.add_command(command)


__all__ = ["main", "register_commands"]
