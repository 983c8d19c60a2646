"""The two ways a quota reaches the system: a command the portal runs, or a ticket to the staff
who set it by hand (the way offices do it today) — and how the usage is measured.

A command is run without a shell (``portal.plugin_api.run_program``): the template is split
like a shell line first and each part is filled in afterwards, so an account name can never
become an extra argument or a second command. A ticket goes through the portal's shared ticket
backend (docs/plugins.md, "Provisioning backends"). After a crash a command may run again (the
queue's lease ends and another worker takes the task): a quota command sets the quota, it does
not add to it, so running it twice does no harm.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from portal.plugin_api import (
    BackendCommand,
    ProvisioningAction,
    ProvisioningError,
    Service,
    provisioning_backend,
    run_program,
)
from portal_diskspace.models import DiskRequest
from portal_diskspace.quota import BLOCKED_KB, GB, KB
from portal_diskspace.settings import COMMAND, TICKET

#: Commands that set the quota the service holds; the others block the account.
SETS_QUOTA = (
    ProvisioningAction.CREATE,
    ProvisioningAction.CHANGE_PACKAGE,
    ProvisioningAction.UNSUSPEND,
)


@dataclass(frozen=True)
class QuotaCommand:
    """One provisioning command in the module's words."""

    task_id: int
    action: ProvisioningAction
    service: Service
    account: str
    old_gb: int
    new_gb: int
    reason: str = ""


def run_template(template: str, values: Mapping[str, Any], timeout: int) -> str:
    """Run ``template`` filled with ``values``; its output, or ProvisioningError with stderr.

    Through the plugin API's ``run_program``: nothing of the database is held while it runs,
    and a timeout ends the program with everything it started (a script's ``sleep``).
    """
    try:
        args = [part.format_map(values) for part in shlex.split(template)]
    except (ValueError, KeyError) as error:
        raise ProvisioningError(
            _("The command %(command)s cannot be read: %(error)s", command=template, error=error)
        ) from None
    if not args:
        raise ProvisioningError(_("No command is set in the disk-space settings."))
    return run_program(args, timeout=timeout)


def measure(account: str, config: Mapping[str, Any]) -> int | None:
    """Bytes ``account`` uses, from the usage command (the first number it prints); None when
    no usage command is set."""
    template = (config.get("usage_command") or "").strip()
    if not template:
        return None
    output = run_template(template, {"account": account}, int(config["command_timeout"]))
    found = re.search(r"\d+", output)
    if found is None:
        raise ProvisioningError(
            _("The usage command printed no number: %(output)s", output=output.strip()[:200])
        )
    number = int(found.group())
    return number * KB if config.get("usage_unit", "kb") == "kb" else number


def programs(config: Mapping[str, Any]) -> list[str]:
    """The programs the configured commands run, each found on this machine; ProvisioningError
    names the first one that is not."""
    found = []
    for key in ("command", "suspend_command", "terminate_command", "usage_command"):
        parts = shlex.split(config.get(key) or "")
        if not parts:
            continue
        path = shutil.which(parts[0])
        if path is None:
            raise ProvisioningError(_("The program %(program)s was not found.", program=parts[0]))
        found.append(path)
    if not found:
        raise ProvisioningError(_("No command is set in the disk-space settings."))
    return sorted(set(found))


class CommandBackend:
    """Runs the configured commands; a non-zero exit fails the task with the command's stderr."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def apply(self, command: QuotaCommand) -> None:
        template = self.config.get("command") or ""
        quota_bytes = command.new_gb * GB
        if command.action not in SETS_QUOTA:
            own = self.config.get(f"{command.action.value}_command") or ""
            if own.strip():
                template = own
            else:
                quota_bytes = BLOCKED_KB * KB
        values = {
            "action": command.action.value,
            "account": command.account,
            "service_id": command.service.id,
            "quota_gb": quota_bytes // GB,
            "quota_kb": quota_bytes // KB,
            "quota_bytes": quota_bytes,
            "old_quota_gb": command.old_gb,
        }
        run_template(template, values, int(self.config["command_timeout"]))


class TicketBackend:
    """Opens a staff-only ticket in the support department through the portal's shared ticket
    backend and waits (the task stays queued) until staff close it; closing the ticket
    completes the command."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def apply(self, command: QuotaCommand) -> None:
        backend = provisioning_backend(
            {**self.config, "backend": TICKET},
            settings_name=_("disk space"),
            requests=DiskRequest,
            text=lambda _service, _commands: ticket_text(command),
        )
        backend.apply(command.task_id, command.service, [BackendCommand(command.action.value)])


def ticket_text(command: QuotaCommand) -> tuple[str, str]:
    """Subject and body of the ticket for ``command``, in the current language."""
    values = {"account": command.account, "old": command.old_gb, "new": command.new_gb}
    if command.action in (ProvisioningAction.CREATE, ProvisioningAction.CHANGE_PACKAGE):
        subject = _("Disk space: %(old)s GB -> %(new)s GB", **values)
        task = _("Set the disk quota of account %(account)s to %(new)s GB.", **values)
    elif command.action is ProvisioningAction.UNSUSPEND:
        subject = _("Disk space: unblock %(account)s (%(new)s GB)", **values)
        task = _("Allow writing again: set the quota of %(account)s to %(new)s GB.", **values)
    elif command.action is ProvisioningAction.SUSPEND:
        subject = _("Disk space: block %(account)s", **values)
        task = _("Block writing for account %(account)s (keep the data).", **values)
    else:
        subject = _("Disk space: remove %(account)s", **values)
        task = _("The service has ended: remove the quota of account %(account)s.", **values)
    lines = [
        task,
        "",
        _("Account: %(account)s", **values),
        _("Current quota: %(old)s GB", **values),
        _("New quota: %(new)s GB", **values),
        _(
            "Service: #%(id)s %(product)s",
            id=command.service.id,
            product=command.service.product.name,
        ),
    ]
    if command.reason:
        lines.append(_("Reason: %(reason)s", reason=command.reason))
    lines += ["", _("Close this ticket when it is done: the portal then completes the command.")]
    return subject, "\n".join(lines)


def backend_for(config: Mapping[str, Any]) -> CommandBackend | TicketBackend:
    return CommandBackend(config) if config.get("backend") == COMMAND else TicketBackend(config)
