"""Models of the orders area. Importing this package registers them with SQLAlchemy."""

from portal.orders.models.order import (
    ChangeStatus,
    Order,
    OrderItem,
    OrderKind,
    OrderSource,
    OrderStatus,
    PromoCode,
    PromoCodeKind,
    PromoUse,
    ServiceAddon,
    ServiceChange,
)
from portal.orders.models.provisioning import ProvisioningAction, ProvisioningTask, TaskStatus
from portal.orders.models.service import Service, ServiceOption, ServiceStatus

__all__ = [
    "ChangeStatus",
    "Order",
    "OrderItem",
    "OrderKind",
    "OrderSource",
    "OrderStatus",
    "PromoCode",
    "PromoCodeKind",
    "PromoUse",
    "ProvisioningAction",
    "ProvisioningTask",
    "Service",
    "ServiceAddon",
    "ServiceChange",
    "ServiceOption",
    "ServiceStatus",
    "TaskStatus",
]
