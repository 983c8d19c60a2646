"""portal-onec: 1C in the cloud sold per user, per information base and per organisation.

A client account holds organisations (INN/KPP checked by the portal's rules, one primary);
organisations hold information bases in the cloud, with users given access to them, and
licences of product lines. Products of Module ``onec`` sell a tariff (users and concurrent
sessions, N bases), a base or a licence (product fields); their provisioning commands reach the
cloud through a program, an HTTP endpoint or staff-only tickets. Clients manage their
organisations, bases and users in the client area; staff see it all on the client card's "1C"
tab.

Everything here reaches the portal through hooks and ``portal.plugin_api`` only (an
import-linter contract in the portal's setup.cfg holds it to that).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint

from portal.billing import Cycle
from portal.plugin_api import (
    Client,
    ClientCardTab,
    ClientRecords,
    PluginSettings,
    Product,
    ProductFields,
    Provisioner,
    Service,
    hookimpl,
)
from portal.plugin_api import Panel as Panel

__version__ = "0.1.0"


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
    from portal_onec.settings import PRODUCT_FIELDS

    return [PRODUCT_FIELDS]


@hookimpl
def co_term_with(client: Client, product: Product, cycle: Cycle, start: date) -> Service | None:
    """Licences of one product line share one period within a client account."""
    from portal_onec.licences import running_licence

    return running_licence(client, product, cycle, start)


@hookimpl
def register_blueprints() -> list[Blueprint]:
    from portal_onec.admin import admin_pages
    from portal_onec.client import client_pages

    return [client_pages, admin_pages]


@hookimpl
def register_client_area_panels() -> list[Panel]:
    from portal_onec.client import PANEL

    return [PANEL]


@hookimpl
def register_client_card_tabs() -> list[ClientCardTab]:
    from portal_onec.admin import TAB

    return [TAB]


@hookimpl
def register_client_records() -> list[ClientRecords]:
    """Organisations, bases and users follow a merged client."""
    from portal_onec.organisations import move_client

    return [ClientRecords("onec", move_client)]


@hookimpl
def load_demo_data(today: date) -> list[str]:
    from portal_onec.demo import load

    return load(today)
