"""portal-telephony: a virtual PBX sold per plan and seat, phone numbers, SIP trunks, calls.

Products of Module ``telephony`` sell a PBX plan (included seats, a per-seat price beyond them
as the core's quantity option), a SIP trunk or an add-on that only some plans may buy
(:mod:`portal_telephony.plans`). Phone numbers come from a pool staff import
(``portal telephony import-numbers`` or the pool page); each belongs to a category by its digits
(:mod:`portal_telephony.categories`) with a connection and a monthly fee, billed on the plan's
renewal invoices (:mod:`portal_telephony.numbers`, :mod:`portal_telephony.usage`).
Provisioning reaches the PBX through the portal's shared backends: a program, an HTTP endpoint
or staff-only tickets (:mod:`portal_telephony.provisioning`). The rating side (tariffs, CDR
import, prepaid balances, postpaid calls) lives in its own modules and revisions
``telephony_0002`` and later.

Everything here reaches the portal through hooks and ``portal.plugin_api`` only (an
import-linter contract in the portal's setup.cfg holds it to that).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.billing import Cycle
from portal.plugin_api import (
    Client,
    ClientCardTab,
    Invoice,
    InvoiceAttachment,
    JobDefinition,
    MenuItem,
    Panel,
    PluginSettings,
    Product,
    ProductFields,
    Provisioner,
    QuotedItem,
    Service,
    UsageCollector,
    hookimpl,
)

__version__ = "0.1.0"

log = logging.getLogger(__name__)

#: Daily, early: numbers whose quarantine or reservation ended become free.
NUMBERS_SCHEDULE = "15 0 * * *"


def numbers_job(as_of: date) -> dict[str, int]:
    """The ``telephony.numbers`` job (portal_telephony.numbers.free_due)."""
    from portal_telephony.numbers import free_due

    return free_due(as_of)


@hookimpl
def register_provisioners() -> list[Provisioner]:
    from portal_telephony.provisioning import Telephony

    return [Telephony()]


@hookimpl
def register_settings() -> list[PluginSettings]:
    from portal_telephony.settings import SETTINGS

    return [SETTINGS]


@hookimpl
def register_product_fields() -> list[ProductFields]:
    from portal_telephony.settings import PRODUCT_FIELDS

    return [PRODUCT_FIELDS]


@hookimpl
def register_usage_collectors() -> list[UsageCollector]:
    from portal_telephony.usage import TelephonyUsage

    return [TelephonyUsage()]


@hookimpl
def validate_order(client: Client, items: Sequence[QuotedItem]) -> str | None:
    from portal_telephony.plans import refuse_order

    return refuse_order(client, items)


@hookimpl
def co_term_with(client: Client, product: Product, cycle: Cycle, start: date) -> Service | None:
    """Add-ons and SIP trunks end with the client's running PBX plan."""
    from portal_telephony.plans import plan_to_co_term_with

    return plan_to_co_term_with(client, product, cycle, start)


@hookimpl
def setup_coefficient(client: Client, product: Product) -> Decimal | None:
    """The client's setup coefficient on a telephony product's setup fee (README, "Tariff
    administration")."""
    from portal_telephony.tariff_admin import setup_coefficient_of

    return setup_coefficient_of(client, product)


@hookimpl
def register_scheduled_jobs() -> list[JobDefinition]:
    return [
        JobDefinition(
            "telephony.numbers",
            _l("Telephony: free numbers after quarantine"),
            NUMBERS_SCHEDULE,
            numbers_job,
        ),
        JobDefinition(
            "telephony.cdrs", _l("Telephony: import call records"), "* * * * *", cdrs_job
        ),
    ]


def cdrs_job(as_of: date) -> dict[str, int]:
    """The ``telephony.cdrs`` job (portal_telephony.cdr_jobs.run): uploads and the watched
    folder."""
    from portal_telephony.cdr_jobs import run

    return run(as_of)


@hookimpl
def register_blueprints() -> list[Blueprint]:
    from portal_telephony.admin import admin_pages
    from portal_telephony.client import client_pages
    from portal_telephony.rating_views import admin_rating, api, client_calls
    from portal_telephony.tariff_views import tariff_pages

    return [client_pages, admin_pages, client_calls, admin_rating, api, tariff_pages]


@hookimpl
def register_admin_menu_items() -> list[MenuItem]:
    return [
        MenuItem("clients", _l("Number pool"), "telephony_admin.pool", 70, "clients.view"),
        MenuItem("clients", _l("Unrated calls"), "telephony_rating.rejects", 71, "clients.view"),
        MenuItem("clients", _l("CDR imports"), "telephony_rating.imports", 72, "clients.edit"),
        MenuItem(
            "billing", _l("Telephony tariffs"), "telephony_tariffs.tariffs", 73, "billing.view"
        ),
    ]


@hookimpl
def register_client_area_panels() -> list[Panel]:
    from portal_telephony.client import PANEL

    return [PANEL]


@hookimpl
def register_client_card_tabs() -> list[ClientCardTab]:
    from portal_telephony.admin import TAB

    return [TAB]


@hookimpl
def register_cli_commands() -> list[Any]:
    from portal_telephony.cli import telephony_cli

    return [telephony_cli]


@hookimpl
def load_demo_data(today: date) -> list[str]:
    from portal_telephony.demo import load

    return load(today)


@hookimpl
def service_terminated(service: Service) -> None:
    """The numbers of a terminated PBX go to quarantine."""
    if service.product.module == "telephony":
        from portal_telephony.numbers import release_service

        release_service(service)


# --- the rating side: CDR import, balances, calls, reports (README.md, "Rating") ---------------


@hookimpl
def payment_received(payment: Any) -> None:
    """A payment may bring a blocked prepaid client back above the limit (balances.py)."""
    from portal_telephony import balances

    balances.payment_received(payment)


@hookimpl
def invoice_attachments(invoice: Invoice) -> list[InvoiceAttachment]:
    """The call detail report of a renewal that bills postpaid calls (call_detail.py)."""
    from portal_telephony.call_detail import invoice_attachments as of_invoice

    return of_invoice(invoice)


@hookimpl
def register_reports() -> list[Any]:
    from portal_telephony.rating_reports import REPORTS

    return list(REPORTS)
