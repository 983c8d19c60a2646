"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from portal.models.audit import ActorType, AuditEntry
from portal.models.automation import (
    BilledPeriod,
    BillingRun,
    BillingRunStatus,
    InvoiceReminder,
    LateFee,
    OverdueAction,
    OverdueActionKind,
    ReminderKind,
)
from portal.models.base import Base
from portal.models.catalog import (
    Addon,
    AddonPrice,
    ConfigOption,
    ConfigOptionChoice,
    ConfigOptionPrice,
    OptionKind,
    Product,
    ProductGroup,
    ProductPrice,
    ProductType,
    UpgradePath,
    Visibility,
)
from portal.models.client import Client, ClientGroup, ClientStatus, Rating
from portal.models.contact import Contact, ContactRole, MailKind
from portal.models.custom_field import CustomField, CustomFieldValue, FieldType
from portal.models.department import Department
from portal.models.escalation import EscalationRule, TicketAutomationRun
from portal.models.invoice import Invoice, InvoiceCounter, InvoiceKind, InvoiceLine, InvoiceStatus
from portal.models.job import JobLease, JobRun, RunStatus
from portal.models.mail_template import MailTemplate
from portal.models.note import Note
from portal.models.order import (
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
from portal.models.outbox import OutboundAttachment, OutboundMessage, OutboundStatus
from portal.models.payment import CreditEntry, CreditReason, Payment, PaymentAllocation, PaymentKind
from portal.models.permissions import BuiltinRole, Permission, Role
from portal.models.plugin_setting import PluginSetting
from portal.models.provisioning import ProvisioningAction, ProvisioningTask, TaskStatus
from portal.models.service import Service, ServiceOption, ServiceStatus
from portal.models.setting import Setting
from portal.models.sla import BusinessHours, SlaPolicy
from portal.models.staff import Staff
from portal.models.support import CannedReply, DepartmentSupport
from portal.models.ticket import (
    MessageKind,
    MessageSource,
    Ticket,
    TicketAssignment,
    TicketAttachment,
    TicketMailId,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketTag,
)
from portal.models.todo import TodoItem

__all__ = [
    "ActorType",
    "Addon",
    "AddonPrice",
    "AuditEntry",
    "Base",
    "BilledPeriod",
    "BillingRun",
    "BillingRunStatus",
    "BuiltinRole",
    "BusinessHours",
    "CannedReply",
    "ChangeStatus",
    "Client",
    "ClientGroup",
    "ClientStatus",
    "ConfigOption",
    "ConfigOptionChoice",
    "ConfigOptionPrice",
    "Contact",
    "ContactRole",
    "CreditEntry",
    "CreditReason",
    "CustomField",
    "CustomFieldValue",
    "Department",
    "DepartmentSupport",
    "EscalationRule",
    "FieldType",
    "Invoice",
    "InvoiceCounter",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceReminder",
    "InvoiceStatus",
    "JobLease",
    "JobRun",
    "LateFee",
    "MailKind",
    "MailTemplate",
    "MessageKind",
    "MessageSource",
    "Note",
    "OptionKind",
    "Order",
    "OrderItem",
    "OrderKind",
    "OrderSource",
    "OrderStatus",
    "OutboundAttachment",
    "OutboundMessage",
    "OutboundStatus",
    "OverdueAction",
    "OverdueActionKind",
    "Payment",
    "PaymentAllocation",
    "PaymentKind",
    "Permission",
    "PluginSetting",
    "Product",
    "ProductGroup",
    "ProductPrice",
    "ProductType",
    "PromoCode",
    "PromoCodeKind",
    "PromoUse",
    "ProvisioningAction",
    "ProvisioningTask",
    "Rating",
    "ReminderKind",
    "Role",
    "RunStatus",
    "Service",
    "ServiceAddon",
    "ServiceChange",
    "ServiceOption",
    "ServiceStatus",
    "Setting",
    "SlaPolicy",
    "Staff",
    "TaskStatus",
    "Ticket",
    "TicketAssignment",
    "TicketAttachment",
    "TicketAutomationRun",
    "TicketMailId",
    "TicketMessage",
    "TicketPriority",
    "TicketStatus",
    "TicketTag",
    "TodoItem",
    "UpgradePath",
    "Visibility",
]
