"""portal-onec: 1C in the cloud sold per user, per information base and per organisation.

A client account holds organisations (INN/KPP checked by the portal's rules, one primary);
organisations hold information bases in the cloud, with users given access to them, and
licences of product lines. Products of Module ``onec`` sell a tariff (users and concurrent
sessions, N bases), a base or a licence (product fields); their provisioning commands reach the
cloud through a program, an HTTP endpoint or staff-only tickets. Clients manage their
organisations, bases and users in the client area; staff see it all on the client card's "1C"
tab. Managers work the renewal queue and the inactive clients; usage above a tariff becomes an
additional charge whose function is blocked when it is not paid in 30 days.

Everything here reaches the portal through hooks and ``portal.plugin_api`` only (an
import-linter contract in the portal's setup.cfg holds it to that).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.billing import Cycle, Period
from portal.plugin_api import (
    Client,
    ClientCardTab,
    ClientRecords,
    DashboardCounter,
    Invoice,
    JobDefinition,
    MenuItem,
    Panel,
    PluginSettings,
    Product,
    ProductFields,
    Provisioner,
    Report,
    Service,
    hookimpl,
    savepoint,
)

__version__ = "0.1.0"

log = logging.getLogger(__name__)

#: Daily, after the core's billing run (03:00 by default), so that a renewal invoiced and paid
#: by credit in that run is seen the same morning.
RENEWALS_SCHEDULE = "30 3 * * *"
#: Daily, before the renewals: the cloud's usage exports.
USAGE_SCHEDULE = "0 3 * * *"
#: Daily, after the usage import of the night: last month's overage is charged on the first
#: days of a month, and charges unpaid after their days to pay are blocked.
CHARGES_SCHEDULE = "0 5 * * *"


def renewals_job(as_of: date) -> dict[str, int]:
    """The ``onec.renewals`` job: queue, renew, close, remind (portal_onec.renewals)."""
    from portal_onec.renewals import run_daily

    return run_daily(as_of)


def usage_job(as_of: date) -> dict[str, int]:
    """The ``onec.usage`` job: read the cloud's usage export (portal_onec.usage)."""
    from portal_onec.usage import collect_daily

    return collect_daily(as_of)


def charges_job(as_of: date) -> dict[str, int]:
    """The ``onec.charges`` job: additional charges (portal_onec.charges)."""
    from portal_onec.charges import run_daily

    return run_daily(as_of)


@hookimpl
def register_provisioners() -> list[Provisioner]:
    from portal_onec.provisioner import Onec

    return [Onec()]


@hookimpl
def register_settings() -> list[PluginSettings]:
    from portal_onec.settings import SETTINGS

    return [SETTINGS]


@hookimpl
def register_product_fields() -> list[ProductFields]:
    from portal_onec.charge_settings import PRODUCT_FIELDS as CHARGE_FIELDS
    from portal_onec.settings import PRODUCT_FIELDS

    return [PRODUCT_FIELDS, CHARGE_FIELDS]


@hookimpl
def co_term_with(client: Client, product: Product, cycle: Cycle, start: date) -> Service | None:
    """Licences of one product line share one period within a client account."""
    from portal_onec.licences import running_licence

    return running_licence(client, product, cycle, start)


@hookimpl
def register_scheduled_jobs() -> list[JobDefinition]:
    return [
        JobDefinition("onec.renewals", _l("1C: renewal queue"), RENEWALS_SCHEDULE, renewals_job),
        JobDefinition("onec.usage", _l("1C: read usage from the cloud"), USAGE_SCHEDULE, usage_job),
        JobDefinition("onec.charges", _l("1C: additional charges"), CHARGES_SCHEDULE, charges_job),
    ]


@hookimpl
def register_blueprints() -> list[Blueprint]:
    from portal_onec.admin import admin_pages
    from portal_onec.charge_views import admin_charges, client_charges
    from portal_onec.client import client_pages
    from portal_onec.renewal_views import bp

    return [client_pages, admin_pages, bp, client_charges, admin_charges]


@hookimpl
def register_admin_menu_items() -> list[MenuItem]:
    return [
        MenuItem("clients", _l("Renewal queue (1C)"), "onec_renewals.index", 60, "clients.view"),
        MenuItem(
            "clients", _l("Inactive clients (1C)"), "onec_renewals.inactive", 61, "clients.view"
        ),
        MenuItem(
            "billing",
            _l("1C: additional charges"),
            "onec_charges_admin.staff_list",
            order=80,
            permission="billing.view",
        ),
    ]


@hookimpl
def register_dashboard_counters() -> list[DashboardCounter]:
    from portal_onec.inactive import without_outcome_count

    return [
        DashboardCounter(
            "onec_inactive",
            _l("Inactive 1C clients without an outcome"),
            "onec_renewals.inactive",
            without_outcome_count,
            "clients.view",
        )
    ]


@hookimpl
def register_client_area_panels() -> list[Panel]:
    from portal_onec.charge_views import client_panel
    from portal_onec.client import PANEL

    return [PANEL, Panel(_l("Additional charges"), client_panel, order=60)]


@hookimpl
def register_client_card_tabs() -> list[ClientCardTab]:
    from portal_onec.admin import TAB

    return [TAB]


@hookimpl
def register_reports() -> list[Report]:
    from portal_onec.charge_report import ChargesReport
    from portal_onec.renewal_reports import InactiveReport, RenewalFunnel

    return [RenewalFunnel(), InactiveReport(), ChargesReport()]


@hookimpl
def register_cli_commands() -> list[Any]:
    from portal_onec.usage import onec_cli

    return [onec_cli]


@hookimpl
def register_client_records() -> list[ClientRecords]:
    """Organisations, bases and users, renewal queue items and outcomes, and additional
    charges follow a merged client."""
    from portal_onec.charges import move_charges
    from portal_onec.organisations import move_client
    from portal_onec.renewals import move_client as move_renewals

    return [
        ClientRecords("onec", move_client),
        ClientRecords("onec_renewals", move_renewals),
        ClientRecords("onec_charges", move_charges),
    ]


@hookimpl
def load_demo_data(today: date) -> list[str]:
    from portal_onec.demo import load

    return load(today)


@hookimpl
def service_renewed(service: Service, period: Period, invoice: Invoice) -> None:
    if service.product.module == "onec":
        from portal_onec.renewals import on_service_renewed

        on_service_renewed(service, period.start, invoice)


@hookimpl
def invoice_paid(invoice: Invoice) -> None:
    from portal_onec import charges
    from portal_onec.renewals import on_invoice_paid

    for react in (on_invoice_paid, charges.invoice_paid):  # one failing leaves the other
        try:
            with savepoint():
                react(invoice)
        except Exception:
            log.exception("onec: %s failed for invoice #%s", react.__qualname__, invoice.id)
