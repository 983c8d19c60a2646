"""tblhosting (+ tblhostingconfigoptions, tblhostingaddons) -> services with their options and
add-ons.

- The price WHMCS bills (``amount``) becomes the service's own price (``price_override``), so
  the first renewal in the portal bills what WHMCS would have, whatever the catalogue says now.
- ``0000-00-00`` as next due date (one-time and free services) is no date; the period being
  billed is the cycle before the next due date.
- The portal holds one service per product per client (buying more is an upgrade of it): a
  second WHMCS service of the same product for the same client is refused, with the service it
  collides with named, for staff to merge by hand (its invoices still come over).
- Fraud orders' services come over cancelled, WHMCS's "Completed" as terminated.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from portal.billing.cycles import next_due
from portal.catalog.models import ConfigOption, OptionKind
from portal.core.extensions import db
from portal.imports.whmcs.billing import clients, cycle_of, grouped, money
from portal.imports.whmcs.context import ImportContext, Refused
from portal.imports.whmcs.values import moment
from portal.orders.models import Service, ServiceAddon, ServiceOption, ServiceStatus

TABLE = "tblhosting"
STATUSES = {
    "Pending": ServiceStatus.PENDING,
    "Active": ServiceStatus.ACTIVE,
    "Suspended": ServiceStatus.SUSPENDED,
    "Terminated": ServiceStatus.TERMINATED,
    "Completed": ServiceStatus.TERMINATED,
    "Cancelled": ServiceStatus.CANCELLED,
    "Fraud": ServiceStatus.CANCELLED,
}


def run(ctx: ImportContext) -> None:
    """Writes flush themselves: nothing half-built is flushed by a lookup in between."""
    with db.session.no_autoflush:
        options = grouped(
            ctx.source.query("SELECT * FROM tblhostingconfigoptions ORDER BY id"), "relid"
        )
        addons = grouped(
            ctx.source.query("SELECT * FROM tblhostingaddons ORDER BY id"), "hostingid"
        )
        holders = {
            (client_id, product_id): service_id
            for service_id, client_id, product_id in db.session.execute(
                select(Service.id, Service.client_id, Service.product_id)
            ).all()
        }
        for row in ctx.rows(TABLE, changed=("updated_at",)):
            own_options, own_addons = options.get(row["id"], []), addons.get(row["id"], [])
            ctx.sync(
                TABLE,
                row,
                target_table="service",
                extra=(own_options, own_addons),
                write=lambda existing, row=row, opts=own_options, adds=own_addons: _write(
                    ctx, row, opts, adds, holders, existing
                ),
                exists=lambda target: db.session.get(Service, target) is not None,
            )


def _write(
    ctx: ImportContext,
    row: dict[str, Any],
    options: list[dict[str, Any]],
    addons: list[dict[str, Any]],
    holders: dict[tuple[int, int], int],
    existing: int | None,
) -> int:
    """``holders``: (client, product) -> the service of it (the portal's one per client)."""
    client = clients(ctx).get(row["userid"])
    if client is None:
        raise Refused(f"its client #{row['userid']} was not imported")
    product_id = ctx.mappings.target_id("tblproducts", row["packageid"])
    if product_id is None:
        raise Refused(f"its product #{row['packageid']} was not imported")
    cycle = cycle_of(row["billingcycle"])
    if cycle is None:
        raise Refused(f"unknown billing cycle {row['billingcycle']!r}")
    client_id, currency = client
    service = db.session.get(Service, existing) if existing else None
    twin = holders.get((client_id, product_id))
    if twin is not None and (service is None or twin != service.id):
        raise Refused(
            f"the client holds service #{twin} of this product already; the portal keeps one "
            "service per product per client: merge them by hand"
        )
    if service is None:
        service = Service(client_id=client_id, product_id=product_id, created_at=ctx.now)
        db.session.add(service)
    service.client_id, service.product_id = client_id, product_id
    service.status = STATUSES.get(row["domainstatus"], ServiceStatus.PENDING)
    service.cycle = cycle.value
    service.currency = currency
    service.registration_date = row["regdate"] or ctx.now.date()
    due: date | None = row["nextduedate"]
    service.next_due_date = due if cycle.is_recurring else None
    service.period_start = next_due(due, cycle, -1) if due and cycle.is_recurring else None
    service.anchor_day = due.day if due and cycle.is_recurring else None
    service.recurring_amount = money(row["amount"])
    service.price_override = money(row["amount"])
    service.username = (row["username"] or "")[:100]
    service.admin_notes = "\n".join(
        part for part in (row["notes"] or "", row["domain"] and f"WHMCS: {row['domain']}") if part
    )
    service.suspension_reason = (
        row["suspendreason"] or "" if service.status is ServiceStatus.SUSPENDED else ""
    )
    if row["domainstatus"] == "Fraud":
        service.termination_reason = "Fraud (WHMCS)"
    elif row["domainstatus"] == "Completed":
        service.termination_reason = "Completed (WHMCS)"
    service.no_suspend_until = row["overidesuspenduntil"] if row["overideautosuspend"] else None
    service.terminated_at = (
        moment(ctx, row["termination_date"])
        if service.status in (ServiceStatus.TERMINATED, ServiceStatus.CANCELLED)
        else None
    )
    new = service.id is None
    db.session.flush()
    holders[(client_id, product_id)] = service.id
    _options(ctx, service, row, options)
    _addons(ctx, service, addons, new)
    db.session.flush()
    return service.id


def _options(
    ctx: ImportContext, service: Service, row: dict[str, Any], options: list[dict[str, Any]]
) -> None:
    if service.options:  # a new service has none (and loads nothing)
        service.options.clear()
        db.session.flush()
    for held in options:
        option_id = ctx.mappings.target_id(
            "tblproductconfigoptions", f"{held['configid']}:{row['packageid']}"
        )
        option = db.session.get(ConfigOption, option_id) if option_id else None
        if option is None:
            ctx.report.refused_value(
                "tblhostingconfigoptions", held["id"], "configid", "its option was not imported"
            )
            continue
        if option.kind is OptionKind.DROPDOWN:
            choice = ctx.mappings.target_id(
                "tblproductconfigoptionssub", f"{held['optionid']}:{row['packageid']}"
            )
            service.options.append(ServiceOption(option_id=option.id, quantity=0, choice_id=choice))
        else:
            service.options.append(
                ServiceOption(option_id=option.id, quantity=int(held["qty"] or 0))
            )


def _addons(ctx: ImportContext, service: Service, addons: list[dict[str, Any]], new: bool) -> None:
    held = (
        {}
        if new
        else {
            row.addon_id: row
            for row in db.session.scalars(
                select(ServiceAddon).where(ServiceAddon.service_id == service.id)
            )
        }
    )
    kept: set[int] = set()
    for addon in addons:
        addon_id = ctx.mappings.target_id("tbladdons", addon["addonid"])
        if addon_id is None:
            ctx.report.refused_value(
                "tblhostingaddons", addon["id"], "addonid", "its add-on was not imported"
            )
            continue
        if addon_id in kept:
            ctx.report.refused_value(
                "tblhostingaddons", addon["id"], "addonid", "the service holds this add-on already"
            )
            continue
        target = held.pop(addon_id, None)
        if target is None:
            target = ServiceAddon(service_id=service.id, addon_id=addon_id, created_at=ctx.now)
            db.session.add(target)
        kept.add(addon_id)
        target.status = STATUSES.get(addon["status"], ServiceStatus.PENDING)
        target.recurring_amount = money(addon["recurring"])
        target.registration_date = addon["regdate"] or service.registration_date
    for stale in held.values():
        db.session.delete(stale)
