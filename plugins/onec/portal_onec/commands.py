"""The commands the 1C cloud understands, and how they travel through the core's queue.

The cloud knows nine commands: create, block, unblock and delete a base, add and remove a
user's access, set a tariff's limits, and block and unblock a function used on credit (the
sessions or the bases above the tariff of an additional charge not paid or refused:
``portal_onec.charges``). The core's provisioning actions map onto them (a
service suspended blocks all its bases...); a change the client makes to one base or user rides
on the core action closest to it — adding is ``create``, removing ``terminate`` — with the
plugin's command in the task's payload under :data:`COMMAND_KEY`, so staff see it in the
provisioning queue like any other, with retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.plugin_api import ProvisioningAction

PLUGIN = "onec"

CREATE_BASE = "create_base"
BLOCK_BASE = "block_base"
UNBLOCK_BASE = "unblock_base"
DELETE_BASE = "delete_base"
ADD_USER = "add_user"
REMOVE_USER = "remove_user"
SET_LIMITS = "set_limits"
BLOCK_FUNCTION = "block_function"
UNBLOCK_FUNCTION = "unblock_function"

#: The payload key of a command about one base or user (queued by the plugin itself).
COMMAND_KEY = "onec_command"

#: The core action each of the plugin's own commands is queued as.
CARRIER: dict[str, ProvisioningAction] = {
    CREATE_BASE: ProvisioningAction.CREATE,
    ADD_USER: ProvisioningAction.CREATE,
    DELETE_BASE: ProvisioningAction.TERMINATE,
    REMOVE_USER: ProvisioningAction.TERMINATE,
    BLOCK_BASE: ProvisioningAction.SUSPEND,
    UNBLOCK_BASE: ProvisioningAction.UNSUSPEND,
    SET_LIMITS: ProvisioningAction.CHANGE_PACKAGE,
    BLOCK_FUNCTION: ProvisioningAction.SUSPEND,
    UNBLOCK_FUNCTION: ProvisioningAction.UNSUSPEND,
}


@dataclass(frozen=True)
class CloudCommand:
    """One command for the cloud: its name and the values the backend passes on (all text or
    whole numbers: they become program arguments, JSON or ticket lines)."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)


def base_values(base: Any) -> dict[str, Any]:
    organisation = base.organisation
    return {
        "base_id": base.id,
        "base": base.name,
        "configuration": base.configuration,
        "inn": organisation.inn,
        "kpp": organisation.kpp,
        "organisation": organisation.name,
    }


def payload(command: str, base: Any, user: Any | None = None) -> dict[str, Any]:
    """The task payload of a command about ``base`` (and ``user``): what the command needs is
    copied in, so a user removed since still has a login to remove."""
    values = base_values(base)
    if user is not None:
        values.update(user_id=user.id, login=user.login, full_name=user.full_name)
    return {COMMAND_KEY: command, "values": values}
