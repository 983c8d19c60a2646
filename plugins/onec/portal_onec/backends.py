"""The three ways a command reaches the 1C cloud: a program the portal runs, an HTTP endpoint
of the cloud's own automation, or a staff-only ticket for the admins who do it by hand.

* ``command``: the configured program (split like a shell line, never run through a shell) gets
  the command's name and its values as ``--name=value`` arguments, e.g.
  ``/opt/cloud/onecctl add_user --base=Бухгалтерия --login=ivanov ...``; a non-zero exit fails the
  task with the program's stderr. A value can never become an extra argument or a second
  command: each is one argument of its own.
* ``http``: each command is POSTed as JSON ``{"command": ..., "service_id": ..., ...values}`` to
  the configured URL with ``Authorization: Bearer <token>``; a 2xx answer is success, anything
  else fails the task with the status and the start of the body.
* ``ticket``: one staff-only ticket per task in the configured department lists the commands;
  the task waits (``ProvisioningPending``) until staff close the ticket.

Commands are idempotent on the cloud's side (creating a base that exists, blocking a blocked
one): after a crash the queue may run a task again.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.plugin_api import (
    Department,
    ProvisioningError,
    ProvisioningPending,
    Service,
    ServiceStatus,
    Ticket,
    TicketError,
    TicketStatus,
    client_locale,
    end_read_transaction,
    now,
    open_ticket,
    run_command,
    session,
)
from portal_onec.commands import CloudCommand
from portal_onec.models import OnecRequest
from portal_onec.settings import COMMAND, HTTP

log = logging.getLogger(__name__)

#: How often a command waiting for its ticket looks again.
TICKET_RECHECK = timedelta(minutes=10)


def arguments(command: CloudCommand, service: Service) -> list[str]:
    """The command and its values as program arguments, in a stable order."""
    values = {"service_id": service.id, **command.values}
    return [command.name, *(f"--{key}={values[key]}" for key in sorted(values))]


class CommandBackend:
    """Runs the configured program once per command."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def program(self) -> list[str]:
        try:
            parts = shlex.split(self.config.get("command") or "")
        except ValueError as error:
            raise ProvisioningError(
                _("The program cannot be read: %(error)s", error=error)
            ) from None
        if not parts:
            raise ProvisioningError(_("No program is set in the 1C cloud settings."))
        return parts

    def apply(self, task_id: int, service: Service, commands: Sequence[CloudCommand]) -> None:
        program = self.program()
        timeout = int(self.config.get("timeout") or 30)
        for command in commands:
            args = [*program, *arguments(command, service)]
            try:
                done = run_command(args, timeout=timeout)
            except FileNotFoundError:
                raise ProvisioningError(
                    _("The program %(program)s was not found.", program=program[0])
                ) from None
            except subprocess.TimeoutExpired:
                raise ProvisioningError(
                    _(
                        "%(program)s did not finish in %(seconds)s s.",
                        program=program[0],
                        seconds=timeout,
                    )
                ) from None
            if done.returncode != 0:
                raise ProvisioningError(
                    _(
                        "%(program)s exited with %(code)s: %(stderr)s",
                        program=program[0],
                        code=done.returncode,
                        stderr=(done.stderr or done.stdout).strip()[:1500],
                    )
                )


class HttpBackend:
    """POSTs each command as JSON to the cloud's endpoint."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def apply(self, task_id: int, service: Service, commands: Sequence[CloudCommand]) -> None:
        url = (self.config.get("url") or "").strip()
        if not url:
            raise ProvisioningError(_("No endpoint URL is set in the 1C cloud settings."))
        timeout = int(self.config.get("timeout") or 30)
        token = self.config.get("token") or ""
        for command in commands:
            body = {
                "command": command.name,
                "service_id": service.id,
                "task_id": task_id,
                **command.values,
            }
            request = urllib.request.Request(  # noqa: S310 - the URL is staff's setting
                url,
                data=json.dumps(body, ensure_ascii=False).encode(),
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Authorization": f"Bearer {token}",
                },
                method="POST",
            )
            end_read_transaction()  # nothing of the database is held while the cloud works
            try:
                with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                    answer.read()
            except urllib.error.HTTPError as error:
                text = error.read().decode(errors="replace").strip()[:500]
                raise ProvisioningError(
                    _(
                        "The cloud answered %(status)s to %(command)s: %(text)s",
                        status=error.code,
                        command=command.name,
                        text=text,
                    )
                ) from None
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                raise ProvisioningError(
                    _("The cloud at %(url)s cannot be reached: %(reason)s", url=url, reason=reason)
                ) from None


class TicketBackend:
    """Opens one staff-only ticket per task and waits until staff close it."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def department_id(self) -> int:
        name = self.config.get("department") or ""
        found = session().scalar(select(Department.id).where(Department.name == name))
        if found is None:
            raise ProvisioningError(_("Choose the support department in the 1C cloud settings."))
        return found

    def apply(self, task_id: int, service: Service, commands: Sequence[CloudCommand]) -> None:
        if not commands:
            return
        request = session().scalar(select(OnecRequest).where(OnecRequest.task_id == task_id))
        if request is None:
            request = self._open(task_id, service, commands)
        ticket = session().get(Ticket, request.ticket_id) if request.ticket_id else None
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

    def _open(
        self, task_id: int, service: Service, commands: Sequence[CloudCommand]
    ) -> OnecRequest:
        with client_locale(service.client):
            subject, body = ticket_text(service, commands)
        running = service.status not in (ServiceStatus.TERMINATED, ServiceStatus.CANCELLED)
        try:
            ticket = open_ticket(  # commits: the ticket stays even if we fail later
                client=service.client,
                subject=subject,
                body=body,
                department_id=self.department_id(),
                service_id=service.id if running else None,
                staff_only=True,
            )
        except TicketError as error:
            raise ProvisioningError(str(error)) from None
        request = OnecRequest(task_id=task_id, ticket_id=ticket.id, created_at=now())
        session().add(request)
        session().flush()
        log.info("1C cloud: ticket #%s for task #%s", ticket.reference, task_id)
        return request


def describe(command: CloudCommand) -> str:
    """One line saying what to do, in the current language."""
    values = dict(command.values)
    if "function" in values:  # block_function, unblock_function: the function in words
        words = {"sessions": _("concurrent sessions"), "bases": _("information bases")}
        values["function"] = words.get(values["function"], values["function"])
    texts = {
        "create_base": _(
            "Create base «%(base)s» (%(configuration)s) for %(organisation)s, INN %(inn)s.",
            **_defaults(values),
        ),
        "block_base": _("Block base «%(base)s» (keep the data).", **_defaults(values)),
        "unblock_base": _("Unblock base «%(base)s».", **_defaults(values)),
        "delete_base": _("Delete base «%(base)s».", **_defaults(values)),
        "add_user": _(
            "Give user %(login)s (%(full_name)s) access to base «%(base)s».", **_defaults(values)
        ),
        "remove_user": _("Remove user %(login)s from base «%(base)s».", **_defaults(values)),
        "set_limits": _(
            "Set the limits: %(sessions)s concurrent sessions, %(bases)s bases (0: no limit).",
            **_defaults(values),
        ),
        "block_function": _(
            "Block the %(quantity)s %(function)s above the tariff (unpaid or refused additional "
            "charge); the rest of the service stays available.",
            **_defaults(values),
        ),
        "unblock_function": _(
            "Unblock the %(quantity)s %(function)s above the tariff (the additional charge is "
            "paid).",
            **_defaults(values),
        ),
    }
    return texts.get(command.name, command.name)


def _defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("base", "configuration", "organisation", "inn", "login", "full_name", "function")
    return {**dict.fromkeys(keys, ""), "sessions": 0, "bases": 0, "quantity": 0, **values}


def ticket_text(service: Service, commands: Sequence[CloudCommand]) -> tuple[str, str]:
    subject = _("1C cloud: %(what)s", what=describe(commands[0]).rstrip("."))
    if len(commands) > 1:
        subject = _(
            "1C cloud: %(count)s commands for service #%(id)s", count=len(commands), id=service.id
        )
    lines = [f"- {describe(command)}" for command in commands]
    lines += [
        "",
        _("Service: #%(id)s %(product)s", id=service.id, product=service.product.name),
        "",
        _("Close this ticket when it is done: the portal then completes the command."),
    ]
    return subject[:255], "\n".join(lines)


def backend_for(config: Mapping[str, Any]) -> CommandBackend | HttpBackend | TicketBackend:
    backend = config.get("backend")
    if backend == COMMAND:
        return CommandBackend(config)
    if backend == HTTP:
        return HttpBackend(config)
    return TicketBackend(config)
