"""Provisioners: the modules that create, suspend, unsuspend, terminate and change services on
the systems a provider runs (a control panel, a licence server, a PBX, a ticket to the admins).

A plugin subclasses :class:`Provisioner`, gives it a ``name`` and returns an instance from the
``register_provisioners`` hook. A product whose **Module** field is that name has its commands
run by it: the portal queues each command in the transaction that decides it (a first invoice
paid, an upgrade applied, staff suspending a service) and the ``provisioning.run`` job calls the
provisioner later, with retries (``portal.orders.provisioning``). So a provisioner:

* is called outside any web request, inside an app context, with the :class:`Service` row and a
  :class:`ProvisioningContext`;
* reports failure by raising — :class:`ProvisioningError` with a message for staff, or any
  exception; the attempt is retried with backoff and, after the last one, the service is marked
  "provisioning failed" with the message. A payment or an invoice is never undone by it;
* may write to the database: the writes commit with the task's success and are rolled back
  when the method raises — except what a service it calls commits itself (``open_ticket``
  does), which stays;
* is called with **no transaction open** and autoflush off: what it changes on the objects is
  written after it returns, with the task's result, so nothing is locked while a slow command
  runs; it must not flush or commit before a long wait (``run_command`` refuses to start a
  program inside a transaction that wrote; docs/plugins.md, section 3.1);
* must be idempotent: after a crash a command may run again (the claim lease ends), and one
  that outlived its lease may run while another worker runs it too (only the claim holder's
  result is recorded);
* may hand the work to people or a slow system and say so by raising
  :class:`ProvisioningPending` (e.g. "ticket #K7QM4ZP2 is open"): that is not a failure. What it
  wrote is kept, the task stays queued and is run again after ``recheck_after`` — the command
  checks whether the work is done and returns normally once it is.

A command the provisioner does not override counts as done (a module with nothing to do on
suspension simply does not define ``suspend``).

Settings: ``ProvisioningContext.settings`` and ``test_connection(settings)`` receive the module's
settings. Today they are empty; per-server settings with encrypted credentials arrive with the
plugin settings work (issue #8) and will be passed through these two seams unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _

from portal.orders.models.provisioning import ProvisioningAction

if TYPE_CHECKING:
    from portal.billing import Period, UsageCharge
    from portal.catalog.models import Product
    from portal.orders.models import Service, ServiceAddon

__all__ = [
    "Provisioner",
    "ProvisioningAction",
    "ProvisioningContext",
    "ProvisioningError",
    "ProvisioningPending",
    "provisioners",
]


class ProvisioningError(Exception):
    """A command failed for a reason staff can act on; the message is shown to them as is."""


class ProvisioningPending(Exception):
    """The command is under way elsewhere (a ticket for the admins, a job on a panel) and is
    not done yet. The queue keeps what the module wrote, shows the message on the task, and runs
    the command again after ``recheck_after``, without using up its retries."""

    def __init__(self, message: str, recheck_after: timedelta = timedelta(minutes=10)) -> None:
        super().__init__(message)
        self.recheck_after = recheck_after


@dataclass(frozen=True)
class ProvisioningContext:
    """What a command is about, besides the service.

    ``payload`` is the task's payload as queued. For ``change_package`` the old and new
    product, cycle and option values ({option id: quantity or choice id}) are filled in; for a
    command about an add-on of the service, ``service_addon`` is the add-on held.
    """

    task_id: int
    action: ProvisioningAction
    #: 1 for the first attempt, 2 for the first retry...
    attempt: int
    payload: Mapping[str, Any] = field(default_factory=dict)
    service_addon: ServiceAddon | None = None
    old_product: Product | None = None
    new_product: Product | None = None
    old_cycle: str | None = None
    new_cycle: str | None = None
    old_options: Mapping[int, int] = field(default_factory=dict)
    new_options: Mapping[int, int] = field(default_factory=dict)
    #: The module's settings (empty until per-server settings exist; see the module docstring).
    settings: Mapping[str, Any] = field(default_factory=dict)


class Provisioner:
    """Base class of a provisioning module; override the commands your module supports.

    ``name`` is the stable id staff enter as a product's Module; ``label`` is what the admin
    shows. Every command gets the :class:`~portal.models.Service` (its ``product``, ``options``,
    ``username`` and ``client`` are loaded on access) and a :class:`ProvisioningContext`, and
    returns nothing; raise to fail. The defaults do nothing, so an unsupported command is done.
    """

    name: str = ""
    label: str = ""

    def create(self, service: Service, context: ProvisioningContext) -> None:
        """Set the service up (its first invoice was paid, or nothing was due). For an add-on
        activated with its parent, ``context.service_addon`` is set."""

    def suspend(self, service: Service, context: ProvisioningContext) -> None:
        """Block the service (overdue, or staff suspended it); ``payload["reason"]`` says why."""

    def unsuspend(self, service: Service, context: ProvisioningContext) -> None:
        """Lift a suspension."""

    def terminate(self, service: Service, context: ProvisioningContext) -> None:
        """Remove the service for good."""

    def change_package(self, service: Service, context: ProvisioningContext) -> None:
        """Apply an upgrade or downgrade: the service already holds the new product, cycle and
        options; ``context`` carries the old and the new ones."""

    def usage(self, service: Service, period: Period) -> list[UsageCharge]:
        """What the service used in ``period`` beyond its price (billed in arrears); the default
        is nothing."""
        return []

    def test_connection(self, settings: Mapping[str, Any]) -> str:
        """Check that the module can reach its system with ``settings``; return a message for
        staff ("Connected to panel.example.com, version 9.2") or raise
        :class:`ProvisioningError` saying what is wrong."""
        return _("%(module)s has no connection to test.", module=self.label or self.name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def provisioners() -> dict[str, Provisioner]:
    """Every registered provisioner by name. The first one registered under a name wins (plugins
    come before built-ins); a provisioner without a name is refused."""
    from portal.core.app_state import plugins

    found: dict[str, Provisioner] = {}
    for provisioner in plugins().collect("register_provisioners"):
        if not getattr(provisioner, "name", ""):
            raise ValueError(f"provisioner {provisioner!r} has no name")
        found.setdefault(provisioner.name, provisioner)
    return found
