"""The import steps, one module per area, run in the order of :data:`STEPS`.

A step module exposes ``run(ctx: ImportContext) -> None`` and, when it can say what the source
and the portal should agree on, ``totals(ctx: ImportContext) -> None`` (called after every step
has run, to fill ``ctx.report.source`` and ``ctx.report.imported``).

The order is the order of dependencies: a step may use what earlier steps imported (through
``ctx.mappings`` and ``ctx.lookups``), never what later ones do. To add a step, write its module
here and put its name in the list at its place; nothing else needs to know.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

STEPS: list[str] = [
    # --- people and their data ---
    "currencies",  # tblcurrencies: the default currency and the others with their rates
    "departments",  # tblticketdepartments: departments (staff belong to them)
    "staff",  # tbladmins: staff, signed in only after a password reset (no WHMCS passwords)
    "clients",  # tblclients: clients with their legal details (needs currencies)
    "users",  # tblusers + tblusers_clients: sign-in password of the owner, others as contacts
    "contacts",  # tblcontacts: the client's contacts
    "custom_fields",  # tblcustomfields + tblcustomfieldsvalues: custom fields, ИНН/КПП
    "notes",  # tblnotes: client notes (needs staff)
    "todos",  # tbltodolist: staff to-do items
    # --- money (catalogue, services, invoices, payments, credit, promotions) ---
    "product_groups",  # tblproductgroups
    "products",  # tblproducts + tblpricing: prices per currency and cycle (disabled ones left)
    "config_options",  # tblproductconfig*: options per linked product, with their prices
    "addons",  # tbladdons + tblpricing
    "promotions",  # tblpromotions -> promo codes (needs products)
    "services",  # tblhosting + config options + add-ons held (needs clients, catalogue)
    "invoices",  # tblinvoices + items, applied credit; moves the numbering counter on
    "orders",  # tblorders (needs services, invoices, promo codes)
    "payments",  # tblaccounts: payments, fees, refunds; then settles invoices' paid amounts
    "credit",  # tblcredit; the balance made to agree with tblclients.credit
    # --- support ---
    "tickets",  # tbltickets + tblticketreplies + tblticketnotes
]


def step_modules() -> list[tuple[str, ModuleType]]:
    return [(name, import_module(f"{__name__}.{name}")) for name in STEPS]
