"""The extension points: base classes a plugin subclasses and the value types it returns from
registry hooks. Each lives in the area that uses it; this module only gathers them."""

from __future__ import annotations

from portal.accounts.clients import ClientRecords
from portal.billing import UsageCharge, UsageCollector
from portal.invoicing.gateways import CallbackResult, PaymentGateway
from portal.invoicing.invoice_attachments import InvoiceAttachment
from portal.invoicing.statement_formats import (
    BankStatement,
    StatementEntry,
    StatementFormatError,
    StatementParser,
)
from portal.orders.orders import QuotedItem
from portal.orders.provisioners import (
    Provisioner,
    ProvisioningAction,
    ProvisioningContext,
    ProvisioningError,
    ProvisioningPending,
)
from portal.orders.provisioning_backends import (
    BackendCommand,
    BackendSettingsForm,
    CommandBackend,
    HttpBackend,
    ProvisioningBackend,
    TicketBackend,
)
from portal.orders.service_changes import ChangePreview
from portal.platform.demo import DemoOption, DemoProduct
from portal.platform.jobs import JobDefinition
from portal.platform.plugin_forms import PluginSettings, ProductFields
from portal.platform.report_filters import ReportFilters
from portal.platform.reports import Chart, Column, Link, Report, ReportResult, client_link
from portal.web.forms import MoneyField
from portal.web.menu import ClientCardTab, DashboardCounter, MenuItem, Panel

__all__ = [
    "BackendCommand",
    "BackendSettingsForm",
    "BankStatement",
    "CallbackResult",
    "ChangePreview",
    "Chart",
    "ClientCardTab",
    "ClientRecords",
    "Column",
    "CommandBackend",
    "DashboardCounter",
    "DemoOption",
    "DemoProduct",
    "HttpBackend",
    "InvoiceAttachment",
    "JobDefinition",
    "Link",
    "MenuItem",
    "MoneyField",
    "Panel",
    "PaymentGateway",
    "PluginSettings",
    "ProductFields",
    "Provisioner",
    "ProvisioningAction",
    "ProvisioningBackend",
    "ProvisioningContext",
    "ProvisioningError",
    "ProvisioningPending",
    "QuotedItem",
    "Report",
    "ReportFilters",
    "ReportResult",
    "StatementEntry",
    "StatementFormatError",
    "StatementParser",
    "TicketBackend",
    "UsageCharge",
    "UsageCollector",
    "client_link",
]
