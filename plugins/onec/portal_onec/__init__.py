"""portal-onec: 1C in the cloud sold per user, per information base and per organisation.

Everything here reaches the portal through hooks and ``portal.plugin_api`` only (an
import-linter contract in the portal's setup.cfg holds it to that).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.plugin_api import (
    ClientCardTab,
    Invoice,
    JobDefinition,
    MenuItem,
    Panel,
    ProductFields,
    Report,
    hookimpl,
)

__version__ = "0.1.0"

#: Daily, after the usage import of the night: last month's overage is charged on the first
#: days of a month, and charges unpaid after their days to pay are blocked.
CHARGES_SCHEDULE = "0 5 * * *"


def run_charges(as_of: date) -> dict[str, int]:
    """The ``onec.charges`` job (portal_onec.charges.run_daily)."""
    from portal_onec.charges import run_daily

    return run_daily(as_of)


@hookimpl
def register_blueprints() -> list[Any]:
    from portal_onec.charge_views import admin_charges, client_charges

    return [client_charges, admin_charges]


@hookimpl
def register_admin_menu_items() -> list[MenuItem]:
    return [
        MenuItem(
            "billing",
            _l("1C: additional charges"),
            "onec_charges_admin.staff_list",
            order=80,
            permission="billing.view",
        )
    ]


@hookimpl
def register_client_area_panels() -> list[Panel]:
    from portal_onec.charge_views import client_panel

    return [Panel(_l("Additional charges"), client_panel, order=60)]


@hookimpl
def register_client_card_tabs() -> list[ClientCardTab]:
    from portal_onec.charge_views import client_card_section

    return [
        ClientCardTab(
            "onec_charges",
            _l("1C: additional charges"),
            client_card_section,
            order=20,
            permission="billing.view",
        )
    ]


@hookimpl
def register_scheduled_jobs() -> list[JobDefinition]:
    return [
        JobDefinition("onec.charges", _l("1C: additional charges"), CHARGES_SCHEDULE, run_charges)
    ]


@hookimpl
def register_product_fields() -> list[ProductFields]:
    from portal_onec.charge_settings import PRODUCT_FIELDS as CHARGE_FIELDS

    return [CHARGE_FIELDS]


@hookimpl
def register_reports() -> list[Report]:
    from portal_onec.charge_report import ChargesReport

    return [ChargesReport()]


@hookimpl
def invoice_paid(invoice: Invoice) -> None:
    from portal_onec import charges

    charges.invoice_paid(invoice)
