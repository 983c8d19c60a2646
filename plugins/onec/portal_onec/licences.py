"""Licences per organisation: one period per product line, tariff changes to the same end date.

A licence is a service of a product of Module ``onec`` whose product fields say kind
``licence`` and a product line (1C:ИТС, 1С-Отчётность...). Within a client account one product
line has one period: a second licence of a line bought mid-period is co-terminated by the core
with the first one (the ``co_term_with`` hook answers which service that is), prorated to the
same end date. A tariff change mid-term runs to the same end date and costs the new tariff's
price for the remaining days minus the unused remainder of the old one — the core's change
quote (``preview_change``); at renewal it costs nothing: the renewal invoice of the next period
simply carries the new tariff.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal.billing import Cycle
from portal.plugin_api import (
    ChangePreview,
    Client,
    Product,
    Service,
    ServiceStatus,
    now,
    preview_change,
    session,
)
from portal_onec.models import Licence
from portal_onec.organisations import primary_organisation
from portal_onec.settings import LICENCE, PLUGIN, product_fields


def product_line(product: Product) -> str | None:
    """The product line ``product`` sells a licence of; None when it is not a licence."""
    if product.module != PLUGIN:
        return None
    fields = product_fields(product)
    if fields["kind"] != LICENCE:
        return None
    return (fields["product_line"] or "").strip() or None


def running_licence(client: Client, product: Product, cycle: Cycle, start: date) -> Service | None:
    """The client's running licence of ``product``'s line, of ``cycle``, whose period holds
    ``start`` (the one registered first): what a new licence of the line co-terms with."""
    line = product_line(product)
    if line is None:
        return None
    candidates = session().scalars(
        select(Service)
        .where(
            Service.client_id == client.id,
            Service.product_id != product.id,
            Service.cycle == cycle.value,
            Service.status == ServiceStatus.ACTIVE,
            Service.period_start <= start,
            Service.next_due_date > start,
        )
        .order_by(Service.registration_date, Service.id)
    )
    return next((s for s in candidates if product_line(s.product) == line), None)


def licences_of(client_id: int) -> list[Licence]:
    """The client's licences with their services, by product line and end date."""
    found = session().scalars(
        select(Licence)
        .join(Service, Licence.service_id == Service.id)
        .where(Service.client_id == client_id)
    )
    return sorted(found, key=lambda x: (x.product_line, x.service.next_due_date or date.max))


def ensure_licence(service: Service, organisation_id: int | None = None) -> Licence:
    """The licence row of ``service`` (created for the given organisation, else the client's
    primary one). Joins the transaction."""
    licence = session().scalar(select(Licence).where(Licence.service_id == service.id))
    if licence is None:
        if organisation_id is None:
            primary = primary_organisation(service.client_id)
            organisation_id = primary.id if primary is not None else None
        licence = Licence(
            service_id=service.id,
            organisation_id=organisation_id,
            product_line=product_line(service.product) or "",
            registration_number="",
            created_at=now(),
        )
        session().add(licence)
        session().flush()
    return licence


def tariff_change(service: Service, tariff: Product, day: date) -> ChangePreview:
    """The core's quote of moving ``service`` to ``tariff`` on ``day``: to the same end date,
    priced new − unused remainder of old (``quote.difference``). Raises ``ChangeError``."""
    return preview_change(service, product=tariff, today=day)


def tariff_change_price(service: Service, tariff: Product, day: date) -> Decimal:
    """What moving to ``tariff`` costs on ``day`` before tax: the change quote's difference
    mid-term; nothing at renewal (on or after the end of the paid period the next period is
    invoiced at the new tariff's price by the renewal itself)."""
    if service.next_due_date is not None and day >= service.next_due_date:
        return Decimal("0.00")
    return tariff_change(service, tariff, day).quote.difference
