"""How a command reaches the 1C cloud: through the portal's shared provisioning backends
(``portal.plugin_api.provisioning_backend``, docs/plugins.md "Provisioning backends") — a
program the portal runs (``onecctl add_user --base=Бухгалтерия --login=ivanov ...``), an HTTP
endpoint of the cloud's own automation, or a staff-only ticket for the admins who do it by hand.
This module only writes what the admins read in such a ticket.

Commands are idempotent on the cloud's side (creating a base that exists, blocking a blocked
one): after a crash the queue may run a task again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from portal.plugin_api import ProvisioningBackend, provisioning_backend
from portal_onec.commands import CloudCommand
from portal_onec.models import OnecRequest


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


def backend_for(config: Mapping[str, Any]) -> ProvisioningBackend:
    """The backend the settings choose."""
    return provisioning_backend(
        config, settings_name=_("1C cloud"), requests=OnecRequest, describe=describe
    )
