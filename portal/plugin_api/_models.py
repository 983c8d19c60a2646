"""The model classes a plugin may read: what hooks hand it (a client, an order, an invoice, a
payment, a service, a ticket and its message), what it looks up (a support department, a
product and its options, a staff member), and the enums to compare their states with; plus
what a plugin needs to declare tables of its own.

Read, query and type-hint with them; change the portal's rows only through the service
functions of :mod:`portal.plugin_api`, which audit, fire hooks and queue what a change implies.
"""

from __future__ import annotations

from portal.accounts.models import Client, Department, Staff
from portal.catalog.models import OptionKind, Product, ProductType
from portal.core.column_types import MoneyType
from portal.core.model_base import Base, UTCDateTime
from portal.invoicing.models import Invoice, InvoiceLine, InvoiceStatus, Payment
from portal.orders.models import Order, Service, ServiceAddon, ServiceStatus
from portal.support.models import Ticket, TicketMessage, TicketStatus

__all__ = [
    "Base",
    "Client",
    "Department",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "MoneyType",
    "OptionKind",
    "Order",
    "Payment",
    "Product",
    "ProductType",
    "Service",
    "ServiceAddon",
    "ServiceStatus",
    "Staff",
    "Ticket",
    "TicketMessage",
    "TicketStatus",
    "UTCDateTime",
]
