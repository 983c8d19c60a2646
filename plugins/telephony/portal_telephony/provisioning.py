"""The ``telephony`` provisioning module: the core's commands become the PBX's.

=====================  ===================================================================
core action            what the PBX is told
=====================  ===================================================================
create (a plan)        ``create_extension`` for each seat (101, 102, ...), then
                       ``assign_number`` for each number the service holds
create (a SIP trunk)   ``create_trunk``
suspend                ``block``
unsuspend              ``unblock``
terminate              ``terminate``; the numbers go to quarantine
change_package         ``create_extension`` / ``delete_extension`` for the seats added or
                       removed (the core's seat change with its proration)
=====================  ===================================================================

A command about one number (``assign_number``, ``release_number``) or a block by the rating
side (``block``, ``unblock`` with the core service left active) comes in the task's payload
and is sent as it is. The commands go through the portal's shared backends (a program, an HTTP
endpoint, staff-only tickets: docs/plugins.md, "Provisioning backends"); each is idempotent on
the PBX's side (creating an extension that exists does nothing), as a task may run again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.plugin_api import (
    BackendCommand,
    Product,
    Provisioner,
    ProvisioningAction,
    ProvisioningBackend,
    ProvisioningContext,
    Service,
    now,
    provisioning_backend,
    queue_provisioning,
    session,
)
from portal_telephony import numbers
from portal_telephony.models import PbxBlock, TelephonyRequest
from portal_telephony.settings import PLAN, PLUGIN, TRUNK, product_fields
from portal_telephony.settings import settings as saved_settings

CREATE_EXTENSION, DELETE_EXTENSION = "create_extension", "delete_extension"
CREATE_TRUNK = "create_trunk"
BLOCK, UNBLOCK, TERMINATE = "block", "unblock", "terminate"
COMMAND_KEY = "command"


def seats(service: Service, product: Product | None = None, options: Any = None) -> int:
    """The seats of a PBX service: the plan's included seats plus the quantity option."""
    product = product or service.product
    included = int(product_fields(product).get("included_seats") or 0)
    chosen = options if options is not None else service_options(service)
    return included + sum(int(q) for q in chosen.values())


def service_options(service: Service) -> dict[int, int]:
    """{option id: quantity} of the service's quantity options."""
    return {held.option_id: int(held.quantity or 0) for held in getattr(service, "options", [])}


def extensions(count: int) -> list[str]:
    first = int(saved_settings()["first_extension"])
    return [str(first + i) for i in range(count)]


def describe(command: BackendCommand) -> str:
    """One line saying what to do, in the current language."""
    values = {"number": "", "extension": "", "reason": "", **command.values}
    texts = {
        CREATE_EXTENSION: _("Create extension %(extension)s.", **values),
        DELETE_EXTENSION: _("Delete extension %(extension)s.", **values),
        numbers.ASSIGN_NUMBER: _("Route number %(number)s to extension %(extension)s.", **values),
        numbers.RELEASE_NUMBER: _("Remove number %(number)s from the PBX.", **values),
        CREATE_TRUNK: _("Create a SIP trunk.", **values),
        BLOCK: _("Block outgoing calls of the PBX (%(reason)s).", **values),
        UNBLOCK: _("Unblock the PBX.", **values),
        TERMINATE: _("Remove the PBX: the service has ended.", **values),
    }
    return texts.get(command.name, command.name)


def backend_for(config: Mapping[str, Any]) -> ProvisioningBackend:
    return provisioning_backend(
        config, settings_name=_("Telephony"), requests=TelephonyRequest, describe=describe
    )


class Telephony(Provisioner):
    name = PLUGIN
    label = _l("Telephony (PBX)")

    def _send(
        self, service: Service, context: ProvisioningContext, sent: Sequence[BackendCommand]
    ) -> None:
        if sent:
            config = {**saved_settings(), **context.settings}
            backend_for(config).apply(context.task_id, service, sent)

    def _own(self, service: Service, context: ProvisioningContext) -> bool:
        name = context.payload.get(COMMAND_KEY)
        if not name:
            return False
        values = dict(context.payload.get("values") or {})
        self._send(service, context, [BackendCommand(str(name), values)])
        if name in (BLOCK, UNBLOCK):
            _set_block(service, blocked=name == BLOCK, reason=str(values.get("reason") or ""))
        return True

    def _is_plan(self, product: Product) -> bool:
        return product_fields(product).get("kind") == PLAN

    def create(self, service: Service, context: ProvisioningContext) -> None:
        if self._own(service, context):
            return
        if product_fields(service.product).get("kind") == TRUNK:
            self._send(service, context, [BackendCommand(CREATE_TRUNK)])
            return
        if not self._is_plan(service.product):
            return
        sent = [
            BackendCommand(CREATE_EXTENSION, {"extension": e}) for e in extensions(seats(service))
        ]
        sent += [
            BackendCommand(numbers.ASSIGN_NUMBER, {"number": n.number, "extension": n.extension})
            for n in numbers.service_numbers(service)
        ]
        self._send(service, context, sent)

    def suspend(self, service: Service, context: ProvisioningContext) -> None:
        if not self._own(service, context):
            self._send(service, context, [BackendCommand(BLOCK, {"reason": "suspended"})])

    def unsuspend(self, service: Service, context: ProvisioningContext) -> None:
        if not self._own(service, context):
            self._send(service, context, [BackendCommand(UNBLOCK)])

    def terminate(self, service: Service, context: ProvisioningContext) -> None:
        if self._own(service, context):
            return
        self._send(service, context, [BackendCommand(TERMINATE)])

    def change_package(self, service: Service, context: ProvisioningContext) -> None:
        if self._own(service, context):
            return
        new_product = context.new_product or service.product
        if not self._is_plan(new_product):
            return
        old_count = seats(service, context.old_product or service.product, context.old_options)
        new_count = seats(service, new_product, context.new_options)
        old, new = extensions(old_count), extensions(new_count)
        sent = [BackendCommand(CREATE_EXTENSION, {"extension": e}) for e in new[len(old) :]]
        sent += [BackendCommand(DELETE_EXTENSION, {"extension": e}) for e in old[len(new) :]]
        self._send(service, context, sent)

    def test_connection(self, settings: Mapping[str, Any]) -> str:
        return backend_for({**saved_settings(), **settings}).describe()


# --- blocking by the rating side ----------------------------------------------------------------


def _set_block(service: Service, *, blocked: bool, reason: str) -> None:
    row = session().get(PbxBlock, service.id)
    if row is None:
        row = PbxBlock(service_id=service.id, blocked=blocked, reason=reason, changed_at=now())
        session().add(row)
    row.blocked, row.changed_at = blocked, now()
    if reason:
        row.reason = reason


def is_blocked(service: Service) -> bool:
    """True while the PBX is blocked by ``block_service`` (the core service may be active)."""
    return bool(session().scalar(select(PbxBlock.blocked).where(PbxBlock.service_id == service.id)))


def block_service(service: Service, reason: str) -> bool:
    """Block the PBX's calls (a prepaid balance at zero) while the core service stays active:
    the ``block`` command goes through the provisioning queue and the block is recorded when it
    is done. False (nothing queued) when it is already blocked. Joins the caller's transaction:
    commit it (the rating job does)."""
    if is_blocked(service):
        return False
    payload = {COMMAND_KEY: BLOCK, "values": {"reason": reason}}
    _set_block(service, blocked=True, reason=reason)  # seen at once; the PBX follows
    return queue_provisioning(service, ProvisioningAction.SUSPEND, payload=payload)


def unblock_service(service: Service) -> bool:
    """Lift ``block_service`` (the balance was topped up). False when it was not blocked.
    Joins the caller's transaction."""
    if not is_blocked(service):
        return False
    _set_block(service, blocked=False, reason="")
    return queue_provisioning(
        service, ProvisioningAction.UNSUSPEND, payload={COMMAND_KEY: UNBLOCK, "values": {}}
    )
