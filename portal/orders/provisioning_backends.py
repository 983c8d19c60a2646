"""The three ways a provisioning module's commands reach another system, shared by plugins.

A provider module (1C cloud, disk space, a PBX) turns the core's actions into its own commands
(``create_base``, ``set_quota``, ``assign_number``) and sends them through one of:

* :class:`CommandBackend` — a program the portal runs: the configured program line (split like a
  shell line, never run through a shell) gets the command's name and its values as
  ``--name=value`` arguments; a non-zero exit fails the task with the program's stderr. A value
  can never become an extra argument or a second command: each is one argument of its own.
  :func:`run_program` is the same run for modules that build their own argument list (templates).
* :class:`HttpBackend` — each command is POSTed as JSON ``{"command": ..., "service_id": ...,
  "task_id": ..., ...values}`` to the configured URL with ``Authorization: Bearer <token>``; a
  2xx answer is success, anything else fails the task with the status and the start of the body.
* :class:`TicketBackend` — one staff-only ticket per provisioning task in the configured support
  department lists the commands in the client's language; the task waits
  (``ProvisioningPending``) until staff close the ticket. The module keeps which ticket belongs
  to which task in a table of its own (a model with ``task_id``, ``ticket_id`` and
  ``created_at``), so re-checking the task never opens a second ticket.

:class:`BackendSettingsForm` is the settings form part they share (backend, program, URL, token,
timeout, department, with the checks). Commands must be idempotent on the other side: after a
crash the queue may run a task again. docs/plugins.md, "Provisioning backends", shows their use.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, PasswordField, SelectField, StringField, ValidationError
from wtforms.validators import URL, InputRequired, NumberRange

from portal.accounts.models import Department
from portal.core import app_state, commands, transactions
from portal.core.extensions import db
from portal.orders.models import Service, ServiceStatus
from portal.orders.orders import client_locale
from portal.orders.provisioners import ProvisioningError, ProvisioningPending
from portal.support import tickets
from portal.support.models import MessageSource, Ticket, TicketStatus

log = logging.getLogger(__name__)

#: The backend names stored in a module's settings.
TICKET, COMMAND, HTTP = "ticket", "command", "http"
#: How often a command waiting for its ticket looks again.
TICKET_RECHECK = timedelta(minutes=10)


@dataclass(frozen=True)
class BackendCommand:
    """One command in the module's words: its name and its values (JSON-serialisable)."""

    name: str
    values: Mapping[str, Any] = field(default_factory=dict)


def run_program(args: Sequence[str], *, timeout: int) -> str:
    """Run ``args`` (never through a shell) and return its stdout; a missing program, a
    timeout or a non-zero exit raise :class:`ProvisioningError` with a message for staff (the
    program's stderr). Nothing of the database is held while it runs."""
    try:
        done = commands.run_command(list(args), timeout=timeout)
    except FileNotFoundError:
        raise ProvisioningError(
            _("The program %(program)s was not found.", program=args[0])
        ) from None
    except subprocess.TimeoutExpired:
        raise ProvisioningError(
            _("%(program)s did not finish in %(seconds)s s.", program=args[0], seconds=timeout)
        ) from None
    if done.returncode != 0:
        raise ProvisioningError(
            _(
                "%(program)s exited with %(code)s: %(stderr)s",
                program=args[0],
                code=done.returncode,
                stderr=(done.stderr or done.stdout).strip()[:1500],
            )
        )
    return done.stdout


def command_arguments(command: BackendCommand, service: Service) -> list[str]:
    """The command and its values (and ``service_id``) as program arguments, in a stable
    order: ``create_extension --extension=101 --service_id=7``."""
    values = {"service_id": service.id, **command.values}
    return [command.name, *(f"--{key}={values[key]}" for key in sorted(values))]


class ProvisioningBackend:
    """What the three backends share: ``apply`` sends ``commands`` of provisioning task
    ``task_id`` for ``service``, raising ProvisioningError (failed, retried) or
    ProvisioningPending (under way). ``settings_name`` names the module's settings page in
    messages ("the 1C cloud settings")."""

    def __init__(self, config: Mapping[str, Any], *, settings_name: str) -> None:
        self.config = config
        self.settings_name = settings_name

    def apply(self, task_id: int, service: Service, commands: Sequence[BackendCommand]) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        """One sentence for the settings page's connection test."""
        raise NotImplementedError

    @property
    def timeout(self) -> int:
        return int(self.config.get("timeout") or 30)


class CommandBackend(ProvisioningBackend):
    """Runs the configured program (``config["command"]``) once per command."""

    def program(self) -> list[str]:
        try:
            parts = shlex.split(self.config.get("command") or "")
        except ValueError as error:
            raise ProvisioningError(
                _("The program cannot be read: %(error)s", error=error)
            ) from None
        if not parts:
            raise ProvisioningError(
                _("No program is set in the %(settings)s settings.", settings=self.settings_name)
            )
        return parts

    def apply(self, task_id: int, service: Service, commands: Sequence[BackendCommand]) -> None:
        program = self.program()
        for command in commands:
            run_program([*program, *command_arguments(command, service)], timeout=self.timeout)

    def describe(self) -> str:
        return _("Commands run %(program)s.", program=" ".join(self.program()))


class HttpBackend(ProvisioningBackend):
    """POSTs each command as JSON to ``config["url"]`` with ``config["token"]``."""

    def url(self) -> str:
        url = (self.config.get("url") or "").strip()
        if not url:
            raise ProvisioningError(
                _(
                    "No endpoint URL is set in the %(settings)s settings.",
                    settings=self.settings_name,
                )
            )
        return url

    def apply(self, task_id: int, service: Service, commands: Sequence[BackendCommand]) -> None:
        url = self.url()
        token = self.config.get("token") or ""
        for command in commands:
            body = {"command": command.name, "service_id": service.id, "task_id": task_id}
            request = urllib.request.Request(  # noqa: S310 - the URL is staff's setting
                url,
                data=json.dumps({**body, **command.values}, ensure_ascii=False).encode(),
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Authorization": f"Bearer {token}",
                },
                method="POST",
            )
            transactions.end_read_transaction()  # nothing is held while the other side works
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                    answer.read()
            except urllib.error.HTTPError as error:
                text = error.read().decode(errors="replace").strip()[:500]
                raise ProvisioningError(
                    _(
                        "%(url)s answered %(status)s to %(command)s: %(text)s",
                        url=url,
                        status=error.code,
                        command=command.name,
                        text=text,
                    )
                ) from None
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                raise ProvisioningError(
                    _("%(url)s cannot be reached: %(reason)s", url=url, reason=reason)
                ) from None

    def describe(self) -> str:
        return _("Commands are POSTed to %(url)s.", url=self.url())


#: (service, commands) -> (subject, body) of the ticket, called in the client's language.
TicketText = Callable[[Service, Sequence[BackendCommand]], tuple[str, str]]


class TicketBackend(ProvisioningBackend):
    """Opens one staff-only ticket per task in ``config["department"]`` and waits until staff
    close it. ``requests`` is the module's model remembering the ticket of a task (columns
    ``task_id``, ``ticket_id``, ``created_at``); ``text`` writes the ticket."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        settings_name: str,
        requests: type[Any],
        text: TicketText,
    ) -> None:
        super().__init__(config, settings_name=settings_name)
        self.requests = requests
        self.text = text

    def department_id(self) -> int:
        name = self.config.get("department") or ""
        found = db.session.scalar(select(Department.id).where(Department.name == name))
        if found is None:
            raise ProvisioningError(
                _(
                    "Choose the support department in the %(settings)s settings.",
                    settings=self.settings_name,
                )
            )
        return found

    def apply(self, task_id: int, service: Service, commands: Sequence[BackendCommand]) -> None:
        if not commands:
            return
        model = self.requests
        request = db.session.scalar(select(model).where(model.task_id == task_id))
        if request is None:
            request = self._open(task_id, service, commands)
        ticket = db.session.get(Ticket, request.ticket_id) if request.ticket_id else None
        if ticket is None:
            raise ProvisioningError(_("The ticket for this command was deleted."))
        if ticket.status is TicketStatus.CLOSED:
            return
        raise ProvisioningPending(
            _(
                "Waiting for staff to close ticket #%(reference)s (%(subject)s).",
                reference=ticket.reference,
                subject=ticket.subject,
            ),
            recheck_after=TICKET_RECHECK,
        )

    def _open(self, task_id: int, service: Service, commands: Sequence[BackendCommand]) -> Any:
        with client_locale(service.client):
            subject, body = self.text(service, commands)
        running = service.status not in (ServiceStatus.TERMINATED, ServiceStatus.CANCELLED)
        try:
            ticket = tickets.open_ticket(  # commits: the ticket stays even if we fail later
                subject=subject[:255],
                body=body,
                department_id=self.department_id(),
                client=service.client,
                service_id=service.id if running else None,
                priority=None,
                source=MessageSource.SYSTEM,
                staff_only=True,  # a task for the admins: the client neither sees nor closes it
            )
        except tickets.TicketError as error:
            raise ProvisioningError(str(error)) from None
        request = self.requests(
            task_id=task_id, ticket_id=ticket.id, created_at=app_state.clock().now()
        )
        db.session.add(request)
        db.session.flush()
        log.info("%s: ticket #%s for task #%s", self.settings_name, ticket.reference, task_id)
        return request

    def describe(self) -> str:
        self.department_id()
        return _("Tickets go to %(department)s.", department=self.config.get("department"))


def commands_ticket(settings_name: str, describe: Callable[[BackendCommand], str]) -> TicketText:
    """The usual ticket: the subject says what to do ("1C cloud: Create base «Бухгалтерия»", or
    how many commands), the body lists each command as ``describe`` words it, then the service
    and how to complete the task."""

    def text(service: Service, commands: Sequence[BackendCommand]) -> tuple[str, str]:
        what = describe(commands[0]).rstrip(".")
        subject = _("%(settings)s: %(what)s", settings=settings_name, what=what)
        if len(commands) > 1:
            subject = _(
                "%(settings)s: %(count)s commands for service #%(id)s",
                settings=settings_name,
                count=len(commands),
                id=service.id,
            )
        lines = [f"- {describe(command)}" for command in commands]
        lines += [
            "",
            _("Service: #%(id)s %(product)s", id=service.id, product=service.product.name),
            "",
            _("Close this ticket when it is done: the portal then completes the command."),
        ]
        return subject, "\n".join(lines)

    return text


def backend_for(
    config: Mapping[str, Any],
    *,
    settings_name: str,
    requests: type[Any],
    text: TicketText | None = None,
    describe: Callable[[BackendCommand], str] | None = None,
) -> ProvisioningBackend:
    """The backend ``config["backend"]`` names (``command``, ``http``, else ``ticket``); the
    ticket is written by ``text``, or by :func:`commands_ticket` from ``describe``."""
    if text is None:
        text = commands_ticket(settings_name, describe or (lambda command: command.name))
    backend = config.get("backend")
    if backend == COMMAND:
        return CommandBackend(config, settings_name=settings_name)
    if backend == HTTP:
        return HttpBackend(config, settings_name=settings_name)
    return TicketBackend(config, settings_name=settings_name, requests=requests, text=text)


def _check_program(_form: Any, field: Any) -> None:
    try:
        shlex.split(field.data or "")
    except ValueError as error:
        raise ValidationError(_l("The command cannot be read: %(error)s", error=error)) from None


class BackendSettingsForm(FlaskForm):
    """The settings a provisioning backend needs; a module's settings form subclasses it, adds
    its own fields and may drop one (``url = None``) or narrow ``backend.choices``."""

    backend = SelectField(
        _l("Backend"),
        choices=[
            (TICKET, _l("A staff-only ticket to a support department (done by hand)")),
            (COMMAND, _l("A program run by the portal with the command as arguments")),
            (HTTP, _l("An HTTP endpoint (JSON POST with a token)")),
        ],
    )
    command = StringField(
        _l("Program"),
        validators=[_check_program],
        description=_l(
            "The program and its first arguments; the portal adds the command and its "
            "values as --name=value arguments (never through a shell)."
        ),
    )
    url = StringField(_l("Endpoint URL"), description=_l("Each command is POSTed here as JSON."))
    token = PasswordField(_l("Endpoint token"), description=_l("Sent as a Bearer token."))
    timeout = IntegerField(
        _l("Timeout, seconds"), validators=[InputRequired(), NumberRange(min=1, max=3600)]
    )
    department = SelectField(_l("Support department for tickets"), choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = db.session.scalars(select(Department.name).order_by(Department.name))
        self.department.choices = [("", _l("— choose —")), *((n, n) for n in names)]

    def validate_department(self, field: Any) -> None:
        if self.backend.data == TICKET and not field.data:
            raise ValidationError(_l("Choose the department that gets the tickets."))

    def validate_command(self, field: Any) -> None:
        if self.backend.data == COMMAND and not (field.data or "").strip():
            raise ValidationError(_l("Enter the program to run."))

    def validate_url(self, field: Any) -> None:
        value = (field.data or "").strip()
        if self.backend.data == HTTP and not value:
            raise ValidationError(_l("Enter the endpoint URL."))
        if value:
            URL(require_tld=False)(self, field)
