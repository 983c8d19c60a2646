"""The public surface of ``portal.plugin_api`` is pinned: adding, renaming or removing a name is
a deliberate change of this list (and of docs/plugins.md, which describes each name)."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import import_module

import pytest
from sqlalchemy import select as sa_select

import portal.plugin_api as api
from portal.core.settings import PROJECT_ROOT

PUBLIC = [
    # hooks
    "hookimpl",
    # base classes and value types of the registry hooks
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
    # models: read them; declare a plugin's own tables with Base and the column types
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
    # service functions and the errors they raise
    "InvoiceError",
    "ChangeError",
    "DiscountError",
    "PaymentError",
    "RequisitesError",
    "TicketError",
    "add_charge",
    "add_credit",
    "cancel_invoice",
    "add_demo_client",
    "add_demo_products",
    "add_demo_service",
    "business_zone",
    "client_link",
    "client_locale",
    "credit_balance",
    "email_client",
    "email_staff",
    "external_url",
    "keep_after_period_end",
    "end_read_transaction",
    "now",
    "open_ticket",
    "paginate",
    "paginate_list",
    "pdf_fonts",
    "plugin_settings",
    "preview_change",
    "product_values",
    "provisioning_backend",
    "queue_provisioning",
    "record_payment",
    "render_pdf",
    "use_credit",
    "use_credits",
    "register_audit_field",
    "register_audit_sentence",
    "requires",
    "run_command",
    "run_program",
    "savepoint",
    "service_change_url",
    "set_personal_coefficient",
    "session",
    "staff_locale",
    "suspend_service",
    "terminate_at_period_end",
    "today",
    "unsuspend_service",
    "validate_requisites",
]


def test_the_public_names_are_exactly_these() -> None:
    assert sorted(api.__all__) == sorted(PUBLIC)
    assert len(set(PUBLIC)) == len(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(api, name)
    assert value is not None
    assert name in dir(api)


def test_the_names_are_the_cores_own_objects() -> None:
    """Re-exported, not copied: ``isinstance`` in the core sees a plugin's subclass."""
    from portal.core.model_base import Base
    from portal.orders.models import Service
    from portal.orders.provisioners import Provisioner
    from portal.platform.hooks.markers import hookimpl

    assert (api.Provisioner, api.Service, api.Base) == (Provisioner, Service, Base)
    assert api.hookimpl is hookimpl


def test_each_name_is_gathered_by_one_part_only() -> None:
    """The private parts behind the package (types, models, services) do not overlap, so a
    name resolves to one object whichever part is loaded first."""
    names = [n for part in api._PARTS for n in import_module(f"portal.plugin_api.{part}").__all__]
    assert len(names) == len(set(names)) == len(PUBLIC) - 1  # all but hookimpl


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'db'"):
        api.db  # noqa: B018
    with pytest.raises(ImportError):
        exec("from portal.plugin_api import extensions", {})


def test_importing_the_api_loads_no_web_or_database_code() -> None:
    """A plugin imports it at the top of every module; the portal behind it loads on use."""
    probe = (
        "import sys, portal.plugin_api; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'sqlalchemy', 'wtforms'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_docs_describe_every_public_name() -> None:
    """docs/plugins.md has a line for each name in its API section, and names no other."""
    text = (PROJECT_ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = text.split("## 2. The plugin API", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([A-Za-z_]+)", section, flags=re.MULTILINE)
    assert sorted(listed) == sorted(PUBLIC)


def test_end_read_transaction_ends_a_reading_transaction_and_refuses_a_writing_one(app) -> None:
    from portal.accounts.models import Department
    from portal.core.extensions import db

    db.session.scalar(sa_select(Department.id))
    assert db.session().in_transaction()
    api.end_read_transaction()
    assert not db.session().in_transaction()
    db.session.add(Department(name="Облако", email="cloud@example.com"))
    with pytest.raises(RuntimeError, match="commit first"):
        api.end_read_transaction()
    db.session.rollback()
