"""PBX plans, SIP trunks and add-ons: who may buy what, and what ends with what.

A plan is a core product of Module ``telephony`` and kind ``plan`` (product fields): its price
includes ``included_seats`` seats, and its quantity option is the seats beyond them at the
plan's price per seat (``Отдел``: 6 seats for 2 000/month, ``Офис``: 12 for 4 500/month). A
client changes seats on the core's change page (``service_change_url``): the core prorates the
difference to the end of the current period and keeps the due date — nothing is computed here.

An add-on (kind ``addon``) may be bought only with one of the plans its ``plans`` field names
(:func:`refuse_order`, the ``validate_order`` hook): the client must hold such a plan or order
it in the same cart. Its price depends on the plan by being a product per plan ("Запись
разговоров — Офис"), each limited to its plan. Add-ons and SIP trunks bought mid-period end
with the client's running plan (:func:`plan_to_co_term_with`, the ``co_term_with`` hook).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from portal.billing import Cycle
from portal.plugin_api import Client, Product, QuotedItem, Service, ServiceStatus, session
from portal_telephony.settings import ADDON, PLAN, PLUGIN, TRUNK, allowed_plans, product_fields

RUNNING = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED, ServiceStatus.PENDING)


def kind_of(product: Product | None) -> str | None:
    """``plan``, ``trunk`` or ``addon`` for a product of this module, else None."""
    if product is None or product.module != PLUGIN:
        return None
    return str(product_fields(product).get("kind") or PLAN)


def plan_services(client_id: int, statuses: Sequence[ServiceStatus] = RUNNING) -> list[Service]:
    """The client's PBX plan services, oldest first."""
    found = session().scalars(
        select(Service)
        .where(Service.client_id == client_id, Service.status.in_(list(statuses)))
        .order_by(Service.registration_date, Service.id)
    )
    return [s for s in found if kind_of(s.product) == PLAN]


def refuse_order(client: Client, items: Sequence[QuotedItem]) -> str | None:
    """The message refusing an add-on ordered without a plan that may buy it, or None."""
    ordered = {item.product.name for item in items if kind_of(item.product) == PLAN}
    held = {s.product.name for s in plan_services(client.id)}
    for item in items:
        if kind_of(item.product) != ADDON:
            continue
        assert item.product is not None
        allowed = allowed_plans(item.product)
        having = ordered | held
        if (allowed and not having & set(allowed)) or not having:
            return _(
                "%(addon)s can be ordered only with the plan %(plans)s.",
                addon=item.product.name,
                plans=", ".join(allowed) or _("any PBX plan"),
            )
    return None


def plan_to_co_term_with(
    client: Client, product: Product, cycle: Cycle, start: date
) -> Service | None:
    """The client's running plan of ``cycle`` whose period holds ``start``: an add-on or a
    trunk bought now ends with it."""
    if kind_of(product) not in (ADDON, TRUNK):
        return None
    for service in plan_services(client.id, (ServiceStatus.ACTIVE,)):
        if (
            service.cycle == cycle.value
            and service.period_start is not None
            and service.period_start <= start < service.next_due_date
        ):
            return service
    return None
