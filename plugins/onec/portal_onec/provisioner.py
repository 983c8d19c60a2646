"""The ``onec`` provisioning module: the core's commands become the cloud's.

============================  ================================================================
core action                   what the cloud is told
============================  ================================================================
create (a tariff or a base)   ``set_limits`` (the tariff's sessions and bases)
create (a licence)            nothing: the licence is recorded for the primary organisation
suspend                       ``block_base`` for each base of the service
unsuspend                     ``unblock_base`` for each blocked base
terminate                     ``delete_base`` for each base (kept here as deleted)
change_package                ``set_limits`` with the new product's limits
============================  ================================================================

A command about one base or user (queued by :mod:`portal_onec.organisations` with the plugin's
command in the payload) is sent as it is. What changes here (a base's state) is written after
the backend succeeded, so nothing is held in the database while a program or the cloud works.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.plugin_api import (
    Provisioner,
    ProvisioningContext,
    Service,
    session,
)
from portal_onec import backends, commands
from portal_onec.commands import COMMAND_KEY, CloudCommand
from portal_onec.licences import ensure_licence, product_line
from portal_onec.models import BaseState, InformationBase
from portal_onec.organisations import bases_of_service
from portal_onec.settings import PLUGIN, product_fields
from portal_onec.settings import settings as saved_settings

#: The state a base is in once the plugin's own command is done.
STATE_AFTER = {
    commands.CREATE_BASE: BaseState.ACTIVE,
    commands.BLOCK_BASE: BaseState.BLOCKED,
    commands.UNBLOCK_BASE: BaseState.ACTIVE,
    commands.DELETE_BASE: BaseState.DELETED,
}


def _limits(product: Any) -> CloudCommand:
    fields = product_fields(product)
    return CloudCommand(
        commands.SET_LIMITS,
        {"sessions": int(fields["sessions_limit"]), "bases": int(fields["bases_limit"])},
    )


class Onec(Provisioner):
    name = PLUGIN
    label = _l("1C cloud")

    def _config(self, context: ProvisioningContext) -> dict[str, Any]:
        return {**saved_settings(), **context.settings}

    def _send(
        self, service: Service, context: ProvisioningContext, sent: list[CloudCommand]
    ) -> None:
        backends.backend_for(self._config(context)).apply(context.task_id, service, sent)

    def _own(self, service: Service, context: ProvisioningContext) -> bool:
        """Run the plugin's own command in the payload, if there is one."""
        name = context.payload.get(COMMAND_KEY)
        if not name:
            return False
        values = dict(context.payload.get("values") or {})
        self._send(service, context, [CloudCommand(str(name), values)])
        state = STATE_AFTER.get(str(name))
        base = service_base(service, values.get("base_id"))
        revived = (
            state is BaseState.ACTIVE and base is not None and base.base_state is BaseState.DELETED
        )
        if state is not None and base is not None and not revived:
            base.state = state.value  # a base deleted meanwhile stays deleted
        return True

    def _bases(
        self,
        service: Service,
        context: ProvisioningContext,
        command: str,
        states: tuple[BaseState, ...],
        after: BaseState,
    ) -> None:
        bases = bases_of_service(service, states)
        sent = [CloudCommand(command, commands.base_values(base)) for base in bases]
        if sent:
            self._send(service, context, sent)
        for base in bases:
            base.state = after.value

    def create(self, service: Service, context: ProvisioningContext) -> None:
        if self._own(service, context):
            return
        if product_line(service.product) is not None:
            ensure_licence(service, context.payload.get("organisation_id"))
            return
        self._send(service, context, [_limits(service.product)])

    def suspend(self, service: Service, context: ProvisioningContext) -> None:
        if self._own(service, context):
            return
        live = (BaseState.ACTIVE, BaseState.CREATING)
        self._bases(service, context, commands.BLOCK_BASE, live, BaseState.BLOCKED)

    def unsuspend(self, service: Service, context: ProvisioningContext) -> None:
        if self._own(service, context):
            return
        blocked = (BaseState.BLOCKED,)
        self._bases(service, context, commands.UNBLOCK_BASE, blocked, BaseState.ACTIVE)

    def terminate(self, service: Service, context: ProvisioningContext) -> None:
        if self._own(service, context):
            return
        alive = (BaseState.ACTIVE, BaseState.CREATING, BaseState.BLOCKED)
        self._bases(service, context, commands.DELETE_BASE, alive, BaseState.DELETED)

    def change_package(self, service: Service, context: ProvisioningContext) -> None:
        if self._own(service, context):
            return
        if product_line(service.product) is not None:
            return  # a licence's tariff: nothing for the cloud
        self._send(service, context, [_limits(context.new_product or service.product)])

    def test_connection(self, settings: Mapping[str, Any]) -> str:
        return backends.backend_for({**saved_settings(), **settings}).describe()


def service_base(service: Service, base_id: Any) -> InformationBase | None:
    """The base ``base_id`` when it is one of ``service``'s bases."""
    if base_id is None:
        return None
    base = session().get(InformationBase, int(base_id))
    return base if base is not None and base.service_id == service.id else None
