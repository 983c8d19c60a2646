"""What the mail layer needs from orders: sample orders and services for the template editor.

Registered by ``portal.orders.register`` (messaging never imports this area; see
``portal.messaging.sources``).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import Flask

from portal.catalog.models import Product
from portal.messaging.sources import Sample, register_template_fields, register_variable
from portal.orders.models.order import Order, OrderItem
from portal.orders.models.service import Service, ServiceStatus

D = Decimal


def sample_service(sample: Sample) -> Service:
    """A service of the preview's client (in memory)."""
    return Service(
        id=42,
        client_id=sample.client.id,
        status=ServiceStatus.ACTIVE,
        cycle="monthly",
        currency=sample.currency,
        registration_date=sample.today - timedelta(days=60),
        next_due_date=sample.today,
        recurring_amount=D("12500.00"),
        username="",
        product=Product(id=7, name=sample.product),
    )


def sample_order(sample: Sample) -> Order:
    """An order of the preview's client (in memory)."""
    order = Order(
        id=1234, client_id=sample.client.id, currency=sample.currency, generate_invoice=True
    )
    order.client = sample.client
    order.items = [OrderItem(position=0, description=sample.product, details=["2 CPU", "4 GB"])]
    return order


def register_mail_sources(app: Flask) -> None:
    """Tell messaging what it needs of this area (called by ``portal.orders.register``)."""
    register_variable(app, "order", sample=sample_order)
    register_variable(app, "service", sample=sample_service)
    register_template_fields(app, Order, ORDER_FIELDS)
    register_template_fields(app, OrderItem, ORDER_ITEM_FIELDS)
    register_template_fields(app, Service, SERVICE_FIELDS)
    register_template_fields(app, Product, PRODUCT_FIELDS)


#: What a staff-edited e-mail template may read of orders, services and their products
#: (docs/automation.md, "E-mail templates").
ORDER_FIELDS = ("id", "items", "generate_invoice", "currency", "subtotal", "tax", "total")
ORDER_ITEM_FIELDS = ("description", "details", "cycle", "price", "setup_fee")
SERVICE_FIELDS = (
    "id",
    "product",
    "status",
    "cycle",
    "currency",
    "username",
    "registration_date",
    "next_due_date",
    "recurring_amount",
)
PRODUCT_FIELDS = ("name",)
